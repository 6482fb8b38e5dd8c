"""The audit log: every change made through the console, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from vss.app_deps import app_deps
from vss.domain.ids import is_valid_id
from vss.errors import BadRequest, NotFound

bp = Blueprint("audit", __name__)
PAGE = 50


@bp.get("/audit")
def index() -> str:
    after = request.args.get("page_token") or None
    try:
        if after is not None and not is_valid_id(after):
            raise NotFound(after)
        entries, next_token = app_deps().audit.recent(limit=PAGE, after=after)
    except NotFound:
        raise BadRequest("That page token is not from this list; start again.") from None
    return render_template("audit.html", title="Audit", entries=entries, next_token=next_token)
