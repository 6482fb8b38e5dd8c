"""The pipeline's own state: what failed in the last 24 hours (dead letters, tasks failed by
their deadline), and what runs (each function's latest start, the deadline queue's backlog)."""

from __future__ import annotations

from flask import Blueprint, render_template

from vss.app_deps import app_deps
from vss.domain.ids import is_valid_id
from vss.service.operations import health as read_health
from vss.service.operations import recent_failures

bp = Blueprint("operations", __name__)


@bp.get("/failures")
def failures() -> str:
    return render_template("failures.html", title="Failures, last 24 hours",
                           failures=recent_failures(app_deps()), is_valid_id=is_valid_id)


@bp.get("/health")
def health() -> str:
    return render_template("health.html", title="Health", health=read_health(app_deps()))
