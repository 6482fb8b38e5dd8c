"""`create_console`: the console's Flask app, its session cookie and its error pages."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from vss.app_deps import install
from vss.console import access
from vss.console.routes import audit, login, operations, tasks, tenants, usage
from vss.deps import Deps
from vss.errors import VssError

PREFIX = "/console"
_HERE = Path(__file__).parent


def create_console(deps: Deps, *, iap_certs: Mapping[str, str] | None = None) -> Flask:
    """The console app on `deps`. `iap_certs` (key id to PEM) replaces Google's IAP keys."""
    app = Flask(__name__, template_folder=str(_HERE / "templates"),
                static_folder=str(_HERE / "static"), static_url_path=f"{PREFIX}/static")
    install(app, deps)
    secret = deps.settings.console_secret
    app.secret_key = secret.get_secret_value() if secret else None
    app.config.update(
        SESSION_COOKIE_NAME="vss_console",
        SESSION_COOKIE_PATH=PREFIX,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        # Plain HTTP only on the local stack (its emulators are set); anywhere else the
        # cookie travels over HTTPS alone.
        SESSION_COOKIE_SECURE=deps.settings.storage_emulator_host is None,
    )
    app.jinja_env.globals["csrf_token"] = access.csrf_token
    for module in (login, tenants, tasks, audit, usage, operations):
        app.register_blueprint(module.bp, url_prefix=PREFIX)
    app.before_request(lambda: access.authenticate(iap_certs))
    # Audio players stream artifacts from their signed URLs: Cloud Storage's origin (the
    # emulator's locally) is the one other source a page may load from.
    media = deps.settings.storage_public_url or "https://storage.googleapis.com"
    app.after_request(lambda response: _no_store(response, media))
    app.register_error_handler(VssError, _vss_error)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _no_store(response: Response, media_origin: str) -> Response:
    """Pages show key material and operational data: never cache them, never frame them."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'self'; media-src {media_origin}; "
        "form-action 'self'; frame-ancestors 'none'")
    return response


def _vss_error(exc: VssError) -> tuple[str, int]:
    return render_template("error.html", title="Error", code=exc.code,
                           message=exc.message), exc.http_status


def _http_error(exc: HTTPException) -> tuple[str, int]:
    return render_template("error.html", title=exc.name, code=exc.code,
                           message=exc.description), exc.code or 500
