"""What the API says about itself: health and the OpenAPI document (no key needed)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from vss.api.context import base_url
from vss.api.openapi import VERSION, openapi_document
from vss.api.views import API_PREFIX, Health
from vss.app_deps import app_deps

blueprint = Blueprint("meta", __name__, url_prefix=API_PREFIX)


@blueprint.get("/health/")
def health() -> dict[str, Any]:
    """Up, and which version."""
    return Health(status="ok", version=VERSION).model_dump()


@blueprint.get("/openapi.json")
def openapi() -> dict[str, Any]:
    """The OpenAPI document, its server being the host the request came in on."""
    return openapi_document(base_url(), app_deps().settings)
