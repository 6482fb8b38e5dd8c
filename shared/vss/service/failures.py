"""An error as a task records it (the tenant reads it) and the logs show it, and recording
it."""

from __future__ import annotations

import logging

from vss.config import Settings
from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.tasks import Task, TaskError
from vss.domain.usage import Usage
from vss.errors import VssError
from vss.redaction import redact, redact_json
from vss.service.spending import charge_tenant

log = logging.getLogger(__name__)


def safe_error(settings: Settings, error: VssError) -> TaskError:
    """Any text from a third party or an exception may carry a key: secrets are masked."""
    recorded = TaskError.of(error)
    secrets = settings.secret_values()
    return TaskError(code=recorded.code, message=redact(recorded.message, secrets),
                     details=redact_json(recorded.details, secrets))


def fail_task(deps: Deps, task_id: str, error: TaskError, spent: Usage,
              labels: dict[str, str]) -> None:
    """Fail the task with `error` (unless it already ended), charging what the attempt spent
    (even if it ended: the provider was paid all the same)."""
    def change(task: Task) -> Task:
        if task.is_terminal:
            return rules.charge(task, spent)
        return rules.charge(rules.fail(task, error, deps.clock()), spent)

    _, after = deps.tasks.update(task_id, change)
    charge_tenant(deps, after, spent)
    log.warning("task FAILED: %s", error.message, extra=labels)
