"""The login page: a console token in, a session cookie out (local stack; IAP in production)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from vss.console import access
from vss.console.context import record
from vss.errors import Unauthenticated

bp = Blueprint("login", __name__)


@bp.get("/login")
def form() -> str:
    return render_template("login.html", title="Sign in", next=request.args.get("next", ""))


@bp.post("/login")
def submit() -> Response | tuple[str, int]:
    try:
        access.log_in(request.form.get("token", ""))
    except Unauthenticated as exc:
        return render_template("login.html", title="Sign in", problem=exc.message,
                               next=""), 401
    record("console.login", "console")
    target = request.form.get("next", "")
    # Only a path of this console: never an open redirect.
    if not target.startswith("/console/") or target.startswith("//"):
        target = url_for("tenants.index")
    return redirect(target)


@bp.get("/")
def home() -> Response:
    return redirect(url_for("tenants.index"))
