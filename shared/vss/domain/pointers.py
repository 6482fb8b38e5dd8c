"""Validation errors as JSON Pointers (RFC 6901) with a reason each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

MAX_ERRORS = 50


def pointer(loc: Iterable[Any], prefix: str = "") -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return prefix + "".join("/" + p for p in parts)


def pointer_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """[{"pointer", "reason"}] for each pydantic error, capped at MAX_ERRORS."""
    return [
        {"pointer": pointer(err["loc"], prefix), "reason": err["msg"]}
        for err in exc.errors(include_url=False)[:MAX_ERRORS]
    ]
