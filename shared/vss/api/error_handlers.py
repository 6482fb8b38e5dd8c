"""The app's one mapping of errors to answers: every error, ours or the framework's, is
answered as `{code, message, details}` with its HTTP status."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from vss.app_deps import app_deps
from vss.errors import UnexpectedError, VssError, for_http_status

log = logging.getLogger(__name__)

# Headers of a framework error that describe its HTML page, not the error.
_PAGE_HEADERS = {"content-type", "content-length"}


def vss_error(exc: VssError) -> tuple[Response, int]:
    """An error of the tree, with its own status and body."""
    if exc.http_status >= 500:
        log.error("request failed: %s", exc.message)
    response = jsonify(exc.to_dict())
    response.headers.update(exc.headers())  # a quota's Retry-After
    return response, exc.http_status


def http_error(exc: HTTPException) -> Response:
    """Routing and protocol errors of the framework, as JSON; their headers (a 405's
    `Allow`) are kept."""
    status = exc.code or 500
    details = {"max_bytes": app_deps().settings.max_upload_bytes} if status == 413 else None
    error = for_http_status(status, exc.description or "", details)
    response = jsonify(error.to_dict())
    response.status_code = status
    for name, value in exc.get_headers():
        if name.lower() not in _PAGE_HEADERS:
            response.headers[name] = value
    return response


def unexpected(exc: Exception) -> tuple[Response, int]:
    """Anything else: logged with its traceback, answered without it."""
    log.exception("unexpected error")
    error = UnexpectedError("Internal error.")
    return jsonify(error.to_dict()), error.http_status


def register(app: Flask) -> None:
    """Install the handlers on `app` (not on a blueprint: routing errors belong to no route)."""
    app.register_error_handler(VssError, vss_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
