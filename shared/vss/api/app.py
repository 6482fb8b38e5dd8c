"""The edge API as a Flask app: one blueprint per resource (vss.api.routes), one error
handler answering every error as `{code, message, details}` (vss.api.error_handlers)."""

from __future__ import annotations

from flask import Flask, request

from vss.api import error_handlers
from vss.api.routes import BLUEPRINTS
from vss.app_deps import install
from vss.deps import Deps
from vss.observability import current_trace, trace_from_header

# Multipart framing adds a little to the file itself.
_MULTIPART_OVERHEAD = 64 * 1024


def create_app(deps: Deps) -> Flask:
    """The API app running on `deps`."""
    app = Flask(__name__)
    app.url_map.strict_slashes = False
    # `//` is answered as the unknown path it is (404), not redirected to another route.
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = deps.settings.max_upload_bytes + _MULTIPART_OVERHEAD
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    install(app, deps)
    app.before_request(_trace)
    error_handlers.register(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    return app


def _trace() -> None:
    """Log lines of this request carry the trace the platform sent."""
    current_trace.set(trace_from_header(
        request.headers.get("X-Cloud-Trace-Context") or request.headers.get("traceparent")
    ))
