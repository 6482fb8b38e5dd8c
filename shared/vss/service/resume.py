"""Resuming a FAILED task at the stage that failed, without redoing what is finished.

Safe at any moment: an attempt still alive under its lease is never taken over (its outcome
counts), the inputs the task waited on are checked again, and the task gets a fresh deadline
with its check.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.files import CHECKED
from vss.domain.leases import LeaseState
from vss.domain.paths import owner_id
from vss.domain.payloads import input_paths
from vss.domain.tasks import Task, TaskError, TaskStatus
from vss.errors import PayloadInvalid
from vss.service.segments import fan_in, publish_current
from vss.service.tasks import get_task, input_problem, parse_payload, schedule_watchdog

log = logging.getLogger(__name__)


def resume_task(deps: Deps, tenant_id: str, task_id: str) -> Task:
    """Run a FAILED task again from its failed stage (409 for any other status; 422 with the
    input's own error when an input it waited on turned out invalid). A fan-out gives its
    unfinished segments their attempts back and publishes them again."""
    task = get_task(deps, tenant_id, task_id)
    waiting, problem = _recheck_inputs(deps, task)
    now = deps.clock()
    if problem is not None:
        deps.tasks.update(task_id, lambda t: rules.refuse_resume(t, problem, now))
        raise PayloadInvalid(problem.message, details=problem.details)
    deadline = timedelta(seconds=deps.settings.task_deadline_seconds)
    _, task = deps.tasks.update(task_id, lambda t: rules.resume(t, now, deadline, waiting))
    if task.current.state == LeaseState.WAITING and task.progress is not None:
        for segment in deps.segments.list_for_task(task_id, task.progress.plan):
            deps.segments.update(task_id, task.progress.plan, segment.index,
                                 lambda s: s.restarted(now))
    schedule_watchdog(deps, task)
    if task.status == TaskStatus.RUNNING:
        publish_current(deps, task)  # nothing while a live attempt keeps the stage
        # Every segment may have finished after the count the failure kept: start the stage.
        fan_in(deps, task_id)
    log.info("task resumed at %s", task.current.stage.value, extra={"task_id": task_id})
    return task


def _recheck_inputs(deps: Deps, task: Task) -> tuple[list[str], TaskError | None]:
    """(the files the task still waits on, the first problem among those now checked)."""
    if not task.waiting_on:
        return [], None
    still: list[str] = []
    paths = input_paths(parse_payload(task.task_type, task.payload))
    for field, path in paths.items():
        file_id = owner_id(path)
        if file_id not in task.waiting_on:
            continue
        record = deps.files.get(file_id)
        if record is None:  # expired with its retention
            return still, TaskError(code=PayloadInvalid.code, message=f"{field}: no such file.",
                                    details={"field": field, "path": path})
        if record.status not in CHECKED:
            still.append(file_id)
        elif problem := input_problem(field, record):
            return still, problem
    return sorted(set(still)), None
