"""Running one stage of a task from a stage message, and the two safety nets around it:
dead-lettered messages and the per-task deadline.

Idempotency is keyed on the task's stage state, not on the message id: a redelivered message
must be able to retake a stage whose worker died (its lease ran out), while a duplicate of a
finished or live stage must not run it again.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.ids import is_valid_id
from vss.domain.messages import StageMessage
from vss.domain.pipeline import point_at_stage_params, stage_inputs
from vss.domain.tasks import Stage, StageClaim, Task, TaskError, TaskStatus
from vss.errors import (
    DeadlineExceeded,
    NotFound,
    PermanentError,
    RetryableError,
    StageBusy,
    UnexpectedError,
    VssError,
)
from vss.service.errors import fail_task, safe_error
from vss.service.segments import (
    publish_pending,
    republish_stalled,
    schedule_watchdog,
    store_segments,
)
from vss.service.storage import TaskFiles
from vss.service.tasks import publish_stage
from vss.stage_handler import StageContext, StageHandler

log = logging.getLogger(__name__)


@contextmanager
def _lease_kept(deps: Deps, task_id: str, stage: Stage) -> Iterator[None]:
    """Extend the stage's lease while the handler runs, so only a dead worker loses it."""
    lease = timedelta(seconds=deps.settings.stage_lease_seconds)
    stop = threading.Event()

    def extend(task: Task) -> Task:
        if task.is_terminal or task.current.stage != stage or task.current.state != "running":
            return task
        run = task.current.model_copy(update={"lease_until": deps.clock() + lease})
        return task.model_copy(update={"current": run})

    def beat() -> None:
        while not stop.wait(lease.total_seconds() / 3):
            try:
                deps.tasks.update(task_id, extend)
            except Exception:  # a missed beat only shortens the lease
                log.warning("lease renewal failed", extra={"task_id": task_id})

    # The heartbeat logs under the stage's trace too: run it in a copy of this context.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(beat,),
                              daemon=True, name=f"lease-{task_id}")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def run_stage(
    deps: Deps, message: StageMessage, handlers: Mapping[Stage, StageHandler] | None = None
) -> StageClaim:
    """Claim, run and record one stage with `deps.handlers` (or `handlers`). Raises
    RetryableError for the trigger to redeliver."""
    handler = (handlers or deps.handlers)[message.stage]
    labels = {"task_id": message.task_id, "stage": message.stage.value}
    decision: list[StageClaim] = []

    def take(task: Task) -> Task:
        now = deps.clock()
        decision[:] = [rules.claim_decision(task, message.stage, now)]
        if decision[0] != StageClaim.RUN:
            return task
        return rules.claim(task, message.stage, now,
                           timedelta(seconds=deps.settings.stage_lease_seconds))

    try:
        if not is_valid_id(message.task_id):
            raise NotFound("No such task.", details=labels)
        before, task = deps.tasks.update(message.task_id, take)
    except NotFound:
        # Redelivering cannot make the task exist: acknowledge instead of looping.
        log.warning("stage message dropped: no such task", extra=labels)
        return StageClaim.UNKNOWN
    outcome = decision[0]
    if outcome == StageClaim.BUSY:
        log.info("stage message sent back: the stage is running elsewhere", extra=labels)
        raise StageBusy("The stage is running elsewhere.", details=labels)
    if outcome == StageClaim.DONE_ALREADY and task.status == TaskStatus.RUNNING:
        # The worker that finished the stage may have died before publishing what follows.
        if task.current.state == "queued":
            publish_stage(deps, task.id, task.current.stage)
        elif task.current.state == "waiting":
            publish_pending(deps, task.id)
    if outcome != StageClaim.RUN:
        log.info("stage message dropped: %s", outcome.value, extra=labels)
        return outcome
    if before.status != task.status:
        log.info("task RUNNING", extra=labels)

    spent: dict[str, float] = {}
    try:
        context = StageContext(
            task=task, inputs=stage_inputs(task, message.stage),
            files=TaskFiles(deps, task.tenant_id, task.id), settings=deps.settings,
            llm_for=deps.llm_for, spent=spent,
            fanned_in=_fanned_in(deps, task, message.stage),
        )
        with _lease_kept(deps, task.id, message.stage):
            output = handler(context)
    except PermanentError as exc:
        point_at_stage_params(task, message.stage, exc.details)
        _record_failure(deps, task.id, exc, labels, spent)
        return outcome
    except Exception as exc:
        error = exc if isinstance(exc, VssError) else UnexpectedError(
            f"{type(exc).__name__}: {exc}")
        safe = safe_error(deps.settings, error)
        deps.tasks.update(task.id, lambda t: rules.charge(
            rules.release(t, message.stage, safe, deps.clock()), spent))
        # The log formatter masks secrets in this text too.
        trace = "" if isinstance(exc, VssError) else "\n" + "".join(
            traceback.format_exception(exc))
        log.warning("stage failed, will retry: %s%s", safe.message, trace, extra=labels)
        # Raised without its cause: the functions framework logs whatever propagates, verbatim.
        raise RetryableError(safe.message, details=safe.details, code=safe.code) from None

    if output.fan_out:  # stored before the task waits on them, so none can go missing
        store_segments(deps, task, output.fan_out)

    def finish(current: Task) -> Task:
        if current.status != TaskStatus.RUNNING or current.current.stage != message.stage:
            return current  # canceled or failed meanwhile: drop the output
        return rules.finish_stage(current, message.stage, output.result, output.usage,
                                  deps.clock(), fan_out=len(output.fan_out))

    _, done = deps.tasks.update(task.id, finish)
    if done.status == TaskStatus.COMPLETED:
        log.info("task COMPLETED", extra=labels)
    elif done.status == TaskStatus.RUNNING and done.current.state == "waiting":
        schedule_watchdog(deps, done)
        count = publish_pending(deps, done.id)
        log.info("stage %s fanned out %s segments", message.stage.value, count, extra=labels)
    elif done.status == TaskStatus.RUNNING and done.current.stage != message.stage:
        publish_stage(deps, done.id, done.current.stage)
    return outcome


def _fanned_in(deps: Deps, task: Task, stage: Stage) -> list[dict[str, Any]]:
    """The outputs of the segments this stage waited on, in order ([] for other stages)."""
    if task.progress is None or task.progress.stage != stage:
        return []
    return [segment.output or {} for segment in deps.segments.list_for_task(task.id)]


def _record_failure(deps: Deps, task_id: str, exc: VssError, labels: dict[str, str],
                    spent: dict[str, float]) -> None:
    fail_task(deps, task_id, safe_error(deps.settings, exc), spent, labels)


def on_dead_letter(deps: Deps, message: StageMessage) -> bool:
    """A stage message ran out of delivery attempts: fail the task with the last cause.

    Returns whether the task was failed (a twin of a live, healthy stage is ignored).
    """
    def change(task: Task) -> Task:
        run = task.current
        live = run.state == "running" and run.lease_until and run.lease_until > deps.clock()
        if task.is_terminal or run.stage != message.stage or live:
            return task
        cause = run.last_error
        return rules.fail(task, TaskError(
            code=cause.code if cause else RetryableError.code,
            message=f"Stage {message.stage.value} failed after {run.attempts} attempts: "
                    f"{cause.message if cause else 'no cause recorded'}",
            details={"stage": message.stage.value, "attempts": run.attempts,
                     "last_error": cause.model_dump() if cause else None},
        ), deps.clock())

    try:
        if not is_valid_id(message.task_id):
            raise NotFound("No such task.")
        before, after = deps.tasks.update(message.task_id, change)
    except NotFound:
        log.warning("dead letter dropped: no such task", extra={"task_id": message.task_id})
        return False
    failed = after.status == TaskStatus.FAILED and before.status != TaskStatus.FAILED
    if failed:
        log.error("task FAILED: dead-lettered", extra={"task_id": message.task_id})
    return failed


def check_deadline(deps: Deps, task_id: str) -> bool:
    """Fail the task if it is past its deadline and not finished; return whether it was.

    Raises NotFound for a task that does not exist (never stored, or expired) or a malformed
    id, so the caller acknowledges the check instead of retrying it forever.
    """
    if not is_valid_id(task_id):
        raise NotFound(f"Task {task_id} does not exist.", details={"task_id": task_id})

    def change(task: Task) -> Task:
        if task.is_terminal or deps.clock() < task.deadline_at:
            return task
        error = DeadlineExceeded(
            "The task did not finish before its deadline.",
            details={"stage": task.current.stage.value, "waiting_on": task.waiting_on,
                     "last_error": task.current.last_error.model_dump()
                     if task.current.last_error else None},
        )
        return rules.fail(task, TaskError.of(error), deps.clock())

    before, after = deps.tasks.update(task_id, change)
    failed = after.status == TaskStatus.FAILED and before.status != TaskStatus.FAILED
    if failed:
        log.warning("task FAILED: deadline exceeded", extra={"task_id": task_id})
    elif not after.is_terminal and after.current.state == "waiting":
        # The check doubles as the fan-out's watchdog: a segment message lost on the way
        # (or whose worker died with no redelivery) is published again.
        republish_stalled(deps, task_id)
        schedule_watchdog(deps, after)
    elif not after.is_terminal:
        deps.deadlines.schedule(task_id, after.deadline_at)
    return failed
