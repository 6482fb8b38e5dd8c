"""Tasks across tenants (filters, pages), one task's stages, errors, artifacts and segments,
and the actions on it: resume a FAILED task, cancel a live one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response

from vss.app_deps import app_deps
from vss.console.charts import Span, timeline_spans
from vss.console.context import record
from vss.domain.artifacts import EditingScript
from vss.domain.ids import is_valid_id
from vss.domain.results import ArtifactDigest, EditingResult
from vss.domain.segments import Segment, SynthesizedSegmentOutput
from vss.domain.tasks import Stage, Task, TaskStatus, TaskType
from vss.errors import BadRequest, NotFound
from vss.service.resume import resume_task
from vss.service.storage import location
from vss.service.tasks import cancel_task

bp = Blueprint("tasks", __name__)
PAGE = 25


def _choice(name: str, values: type[TaskStatus] | type[TaskType]) -> Any:
    text = request.args.get(name) or None
    if text is None:
        return None
    try:
        return values(text)
    except ValueError:
        raise BadRequest(f"Unknown {name} {text!r}.") from None


def _day(name: str) -> date | None:
    """A UTC day given as YYYY-MM-DD (what a date input sends)."""
    text = request.args.get(name) or None
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} must be a day as YYYY-MM-DD, not {text[:40]!r}.") from None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


@bp.get("/tasks")
def index() -> str:
    """Tasks newest first, filtered by status, type, tenant and the UTC days they were
    created in (`from` and `to`, both included)."""
    status, task_type = _choice("status", TaskStatus), _choice("type", TaskType)
    first, last = _day("from"), _day("to")
    if first is not None and last is not None and first > last:
        raise BadRequest("The first day comes after the last one.")
    tenant = request.args.get("tenant") or None
    after = request.args.get("page_token") or None
    if (tenant is not None and not is_valid_id(tenant)) or (
            after is not None and not is_valid_id(after)):
        raise BadRequest("Tenant ids and page tokens are ids of letters, digits, _ and -.")
    try:
        tasks, next_token = app_deps().tasks.list_all(
            status=status, task_type=task_type, tenant_id=tenant,
            created_since=_start_of(first) if first else None,
            created_before=_start_of(last + timedelta(days=1)) if last else None,
            limit=PAGE, after=after)
    except NotFound:
        raise BadRequest("That page token is not from this list; start again.") from None
    filters = {k: v for k, v in {"status": status, "type": task_type, "tenant": tenant,
                                 "from": first, "to": last}.items() if v is not None}
    return render_template("tasks.html", title="Tasks", tasks=tasks, next_token=next_token,
                           filters=filters, statuses=list(TaskStatus), types=list(TaskType))


@bp.get("/tasks/<task_id>")
def show(task_id: str) -> str:
    task = _task(task_id)
    segments = (app_deps().segments.list_for_task(task.id, task.progress.plan)
                if task.progress is not None else [])
    return render_template("task.html", title=f"Task {task.id}", task=task,
                           artifacts=_artifact_links(task),
                           segments=[(s, _synthesized(s)) for s in segments],
                           bars=_editing_spans(task))


@bp.post("/tasks/<task_id>/resume")
def resume(task_id: str) -> Response:
    task = _task(task_id)
    after = resume_task(app_deps(), task.tenant_id, task.id)
    record("task.resume", task.id, tenant_id=task.tenant_id, status=after.status.value)
    return redirect(url_for("tasks.show", task_id=task.id), code=303)


@bp.post("/tasks/<task_id>/cancel")
def cancel(task_id: str) -> Response:
    task = _task(task_id)
    after = cancel_task(app_deps(), task.tenant_id, task.id)
    record("task.cancel", task.id, tenant_id=task.tenant_id, status=after.status.value)
    return redirect(url_for("tasks.show", task_id=task.id), code=303)


def _task(task_id: str) -> Task:
    task = app_deps().tasks.get(task_id) if is_valid_id(task_id) else None
    if task is None:
        raise NotFound(f"Task {task_id} does not exist.")
    return task


def _synthesized(segment: Segment) -> SynthesizedSegmentOutput | None:
    """What a finished dubbing segment recorded (engine, duration), if it is one."""
    if segment.output is None:
        return None
    try:
        return SynthesizedSegmentOutput.model_validate(segment.output)
    except ValidationError:
        return None


def _editing_spans(task: Task) -> list[Span]:
    """The editing script's strip, when the task made one."""
    result = task.results.get(Stage.EDITING)
    if not isinstance(result, EditingResult):
        return []
    d = app_deps()
    bucket, blob = location(d, task.tenant_id, result.output_file_path)
    try:
        return timeline_spans(EditingScript.model_validate_json(d.blobs.read(bucket, blob)))
    except (NotFound, ValidationError):  # expired with its retention, or not ours to draw
        return []


def _artifact_links(task: Task) -> list[tuple[ArtifactDigest, str]]:
    """Every stage's published files with a short-lived signed download URL each."""
    d = app_deps()
    links = []
    for result in task.results.values():
        for artifact in result.artifacts:
            bucket, blob = location(d, task.tenant_id, artifact.path)
            links.append((artifact, d.blobs.signed_download_url(
                bucket, blob, d.settings.signed_url_ttl_seconds)))
    return links
