"""Validation errors as JSON Pointers (RFC 6901) with a reason each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from vss.errors import VssError

MAX_ERRORS = 50
M = TypeVar("M", bound=BaseModel)


def pointer(loc: Iterable[Any], prefix: str = "") -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return prefix + "".join("/" + p for p in parts)


def pointer_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """[{"pointer", "reason"}] for each pydantic error, capped at MAX_ERRORS."""
    return [
        {"pointer": pointer(err["loc"], prefix), "reason": err["msg"]}
        for err in exc.errors(include_url=False)[:MAX_ERRORS]
    ]


def validated(model: type[M], data: Any, error: type[VssError], message: str,
              prefix: str = "") -> M:
    """`data` as `model`, or `error(message)` with a pointer (under `prefix`) per problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(message, details={"errors": pointer_errors(exc, prefix)}) from None
