"""Who may use the console, checked before every request.

In production (`VSS_CONSOLE_IAP_AUDIENCE` set) every request must carry a valid IAP assertion;
its identity is the actor. Locally the login page exchanges a console token for a session
cookie (signed with `VSS_CONSOLE_SECRET`, HttpOnly, SameSite=Strict) that lasts as long as the
token would have. An edge API key opens nothing: its headers are never read here.

Every POST carries `csrf_token`, a random value kept in the session and put in each form.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping

from flask import abort, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from vss.app_deps import app_deps
from vss.console import iap
from vss.console.tokens import SUBJECT, check_token

OPEN_ENDPOINTS = frozenset({"login.form", "login.submit", "static"})


def csrf_token() -> str:
    """The session's CSRF token (created on first use); templates put it in every form."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    kept = session.get("csrf")
    if not kept or not hmac.compare_digest(str(kept), sent):
        abort(400, "The form has no valid CSRF token; reload the page and try again.")


def secret() -> str:
    value = app_deps().settings.console_secret
    if value is None:
        abort(503, "The console is not configured: set VSS_CONSOLE_SECRET.")
    return value.get_secret_value()


def authenticate(iap_certs: Mapping[str, str] | None) -> Response | None:
    """Set `g.actor`, or answer: a redirect to the login page, or the 401 of a bad IAP
    assertion. Runs before every request."""
    secret()
    if request.method == "POST":
        check_csrf()
    audience = app_deps().settings.console_iap_audience
    if audience:
        g.actor = iap.verify_assertion(request.headers.get(iap.HEADER), audience, iap_certs)
        return None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    expires = session.get("expires")
    now = app_deps().clock().timestamp()
    if session.get("actor") and isinstance(expires, int) and expires > now:
        g.actor = session["actor"]
        return None
    session.pop("actor", None)
    return redirect(url_for("login.form", next=request.full_path))


def log_in(token: str) -> None:
    """Open a session for a valid console token (a fresh one: new CSRF token too)."""
    expires = check_token(secret(), token, app_deps().clock())
    session.clear()
    session["actor"] = SUBJECT
    session["expires"] = int(expires.timestamp())
    csrf_token()
    g.actor = SUBJECT

