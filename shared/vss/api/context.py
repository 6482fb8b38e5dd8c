"""What a route reads besides its URL (its `Deps` come from `vss.app_deps`): the
authenticated caller, the base URL of links, and the JSON body as a model."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from vss.app_deps import app_deps
from vss.domain.pointers import pointer_errors
from vss.errors import BadRequest, UnsupportedMedia
from vss.service import auth

B = TypeVar("B", bound=BaseModel)


def caller() -> str:
    """The tenant of the request's API key; raises the 401 when there is none."""
    instance = auth.authenticate(
        app_deps(), request.headers.get("X-Instance-ID"), request.headers.get("X-Api-Key")
    )
    return instance.tenant_id


def base_url() -> str:
    """Scheme and host the request came in on: links in answers point back there."""
    return request.host_url.rstrip("/")


def json_body(model: type[B]) -> B:
    """The request's JSON object validated as `model`: 415 when it is not JSON, 400 (with a
    pointer per problem) when it is not a valid `model`."""
    if not request.is_json:
        raise UnsupportedMedia("Send the body as application/json.",
                               details={"accepted": ["application/json"]})
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadRequest("Body is invalid.", details={"errors": pointer_errors(exc)}) from None
