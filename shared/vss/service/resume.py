"""Resuming a FAILED task at the stage that failed, without redoing what is finished."""

from __future__ import annotations

import logging
from datetime import timedelta

from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.segments import retry_segment
from vss.domain.tasks import Task
from vss.service.segments import publish_pending, schedule_watchdog
from vss.service.tasks import get_task, publish_stage

log = logging.getLogger(__name__)


def resume_task(deps: Deps, tenant_id: str, task_id: str) -> Task:
    """Run a FAILED task again from its failed stage (409 for any other status). A fan-out
    gives its unfinished segments their attempts back and publishes them again."""
    get_task(deps, tenant_id, task_id)
    deadline = timedelta(seconds=deps.settings.task_deadline_seconds)
    _, task = deps.tasks.update(task_id, lambda t: rules.resume(t, deps.clock(), deadline))
    if task.current.state == "waiting":
        for segment in deps.segments.list_for_task(task_id):
            if segment.state != "done":
                deps.segments.update(task_id, segment.index, retry_segment)
        schedule_watchdog(deps, task)
        publish_pending(deps, task_id)
    else:
        deps.deadlines.schedule(task_id, task.deadline_at)
        publish_stage(deps, task_id, task.current.stage)
    log.info("task resumed at %s", task.current.stage.value, extra={"task_id": task_id})
    return task
