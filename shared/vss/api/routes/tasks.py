"""Tasks: create (idempotently under an `Idempotency-Key`), list, read, resume, cancel."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from vss.api.conditional import revalidated
from vss.api.context import base_url, caller, json_body
from vss.api.views import API_PREFIX, TaskPage, TaskView
from vss.app_deps import app_deps
from vss.domain.idempotency import HEADER as IDEMPOTENCY_KEY
from vss.domain.idempotency import parse_key
from vss.domain.tasks import Task
from vss.errors import BadRequest
from vss.service import idempotency, resume, tasks

blueprint = Blueprint("tasks", __name__, url_prefix=f"{API_PREFIX}/tasks")


@blueprint.post("/")
def create_task() -> tuple[dict[str, Any], int]:
    """A new task of the caller; the same task again for a replayed key and body."""
    tenant_id = caller()
    key = parse_key(request.headers.get(IDEMPOTENCY_KEY))
    created = idempotency.create_task(app_deps(), tenant_id, json_body(tasks.CreateTask), key)
    # 202 from the request that stored the task, 200 for the same task found again.
    status = 200 if created.replayed else 202
    return _view(created.task), status


@blueprint.get("/")
def list_tasks() -> dict[str, Any]:
    """A page of the caller's tasks, `page_size` of them from `page_token` on."""
    tenant_id = caller()
    size = _page_size(request.args.get("page_size", "20"))
    found, token = tasks.list_tasks(
        app_deps(), tenant_id, limit=size, page_token=request.args.get("page_token") or None
    )
    page = TaskPage(results=[TaskView.of(t, base_url()) for t in found],
                    next_page_token=token)
    return page.model_dump(mode="json")


@blueprint.get("/<task_id>/")
def get_task(task_id: str) -> Response:
    """One task of the caller, with its ETag; 304 without a body when `If-None-Match` names it
    (the task is found as the caller's first: another tenant's is the usual 404)."""
    task = tasks.get_task(app_deps(), caller(), task_id)
    return revalidated(jsonify(_view(task)))


@blueprint.post("/<task_id>/resume/")
def resume_task(task_id: str) -> dict[str, Any]:
    """A failed task of the caller, started again from the stage it failed in."""
    return _view(resume.resume_task(app_deps(), caller(), task_id))


@blueprint.post("/<task_id>/cancel/")
def cancel_task(task_id: str) -> dict[str, Any]:
    """A task of the caller, canceled."""
    return _view(tasks.cancel_task(app_deps(), caller(), task_id))


def _view(task: Task) -> dict[str, Any]:
    return TaskView.of(task, base_url()).model_dump(mode="json")


def _page_size(raw: str) -> int:
    """`page_size` as an int in range, else a 400 pointing at it."""
    page_size_max = app_deps().settings.page_size_max
    size_error = {"pointer": "/query/page_size",
                  "reason": f"an integer from 1 to {page_size_max}"}
    # ASCII digits only: int() would also take " 5", "+5", "5_0" and other scripts' digits.
    if not re.fullmatch(r"-?[0-9]+", raw):
        raise BadRequest("page_size must be an integer.", details={"errors": [size_error]})
    size = int(raw)
    if not 1 <= size <= page_size_max:
        raise BadRequest("page_size out of range.", details={
            "min": 1, "max": page_size_max, "errors": [size_error]})
    return size
