"""Running one stage of a task from a stage message, and the two safety nets around it:
dead-lettered messages and the per-task deadline.

Idempotency is keyed on the task's stage state, not on the message id: a redelivered message
must be able to retake a stage whose worker died (its lease ran out), while a duplicate of a
finished or live stage must not run it again. Each attempt is fenced (`vss.service.leased`):
only the attempt holding the stage records its outcome, and it writes its files in its own
folder, so a stale attempt can neither record a result nor overwrite a published file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import cache

from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.ids import is_valid_id
from vss.domain.leases import LeaseState, exhausted_error
from vss.domain.messages import StageMessage
from vss.domain.pipeline import point_at_task_params, stage_inputs
from vss.domain.segments import Segment
from vss.domain.tasks import Stage, StageClaim, Task, TaskError, TaskStatus
from vss.domain.usage import Usage
from vss.errors import DeadlineExceeded, NotFound, StageBusy
from vss.service import assets, quotas
from vss.service.leased import Attempt, run_leased
from vss.service.segments import (
    count_failed_fan_out,
    publish_current,
    publish_pending,
    republish_stalled,
    store_segments,
)
from vss.service.spending import charge_tenant
from vss.service.storage import TaskFiles
from vss.service.tasks import publish_stage, schedule_watchdog
from vss.service.uploads import check_late_uploads
from vss.stage_handler import StageContext, StageHandler, StageOutput

log = logging.getLogger(__name__)


class StageWork:
    """A task's current stage as leased work (`vss.service.leased`): the lease lives on the
    task document, so each step is one transaction on the task."""

    def __init__(self, deps: Deps, message: StageMessage) -> None:
        self.deps, self.message, self.stage = deps, message, message.stage
        self.what = f"stage {message.stage.value}"
        self.labels = {"task_id": message.task_id, "stage": message.stage.value}
        self.lease = timedelta(seconds=deps.settings.stage_lease_seconds)
        self.task: Task | None = None  # as claimed
        self.done: Task | None = None  # as finished (when this attempt's commit won)

    def _update(self, change: Callable[[Task], Task]) -> tuple[Task, Task]:
        return self.deps.tasks.update(self.message.task_id, change)

    def claim(self, token: str) -> str:
        decision: list[StageClaim] = []

        def take(task: Task) -> Task:
            now = self.deps.clock()
            decision[:] = [rules.claim_decision(task, self.stage, now)]
            if decision[0] != StageClaim.RUN:
                return task
            return rules.claim(task, self.stage, token, now, self.lease)

        try:
            if not is_valid_id(self.message.task_id):
                raise NotFound("No such task.", details=self.labels)
            before, self.task = self._update(take)
        except NotFound:
            # Redelivering cannot make the task exist: acknowledge instead of looping.
            log.warning("stage message dropped: no such task", extra=self.labels)
            return StageClaim.UNKNOWN
        outcome, task = decision[0], self.task
        if outcome == StageClaim.BUSY:
            log.warning("stage message sent back: the stage is running elsewhere",
                        extra=self.labels)
            raise StageBusy("The stage is running elsewhere.", details=self.labels)
        if outcome == StageClaim.DONE_ALREADY and task.status == TaskStatus.RUNNING:
            # The worker that finished the stage may have died before publishing what follows.
            publish_current(self.deps, task)
        if outcome != StageClaim.RUN:
            log.info("stage message dropped: %s", outcome.value, extra=self.labels)
        elif before.status != task.status:
            log.info("task RUNNING", extra=self.labels)
        return outcome

    def renew(self, token: str, until: datetime) -> None:
        self._update(lambda t: rules.renew(t, self.stage, token, until))

    def release(self, token: str, error: TaskError, spent: Usage) -> bool:
        now = self.deps.clock()
        before, after = self._update(lambda t: rules.charge(
            rules.release(t, self.stage, token, error, now), spent))
        charge_tenant(self.deps, after, spent)
        return rules.holds(before, self.stage, token)

    def fail(self, token: str, error: TaskError, spent: Usage) -> bool:
        assert self.task is not None
        details = dict(error.details)
        point_at_task_params(self.task, self.stage, details)
        error = error.model_copy(update={"details": details})
        now = self.deps.clock()
        before, after = self._update(lambda t: rules.charge(
            rules.fail_attempt(t, self.stage, token, error, now), spent))
        charge_tenant(self.deps, after, spent)
        current = rules.holds(before, self.stage, token)
        if current:
            log.warning("task FAILED: %s", error.message, extra=self.labels)
        return current

    def finish(self, token: str, output: StageOutput, spent: Usage) -> bool:
        assert self.task is not None
        if output.fan_out:  # stored before the task waits on them, so none can go missing
            store_segments(self.deps, self.task, token, output.fan_out)
        now = self.deps.clock()
        usage = spent + output.usage

        def record(task: Task) -> Task:
            if not rules.holds(task, self.stage, token):  # stale: charge what it spent
                return rules.charge(task, usage)
            return rules.finish_stage(task, self.stage, token, output.result, usage, now,
                                      fan_out=len(output.fan_out))

        before, self.done = self._update(record)
        charge_tenant(self.deps, self.done, usage)
        return rules.holds(before, self.stage, token)


def run_stage(
    deps: Deps, message: StageMessage, handlers: Mapping[Stage, StageHandler] | None = None
) -> StageClaim:
    """Claim, run and record one stage with `deps.handlers` (or `handlers`). Raises
    RetryableError for the trigger to redeliver."""
    handler = (handlers or deps.handlers)[message.stage]
    work = StageWork(deps, message)

    def body(attempt: Attempt) -> StageOutput:
        assert work.task is not None
        task = work.task
        files = TaskFiles(deps, task.tenant_id, task.id, attempt=attempt.token)
        segments = _fanned_in(deps, task, message.stage)
        context = StageContext(
            task=task, inputs=stage_inputs(task, message.stage), files=files,
            llm_for=deps.llm_for, spent=attempt.spent,
            allowance=cache(lambda: quotas.daily_allowance(deps, task.tenant_id)),
            fanned_in=[segment.output or {} for segment in segments],
            embedder_for=deps.embedder_for, vectors=deps.vectors,
        )
        output = handler(context)
        # The stage publishes its own files and those of the segments it assembled.
        published = files.written + [d for segment in segments for d in segment.artifacts]
        output.result = output.result.model_copy(update={"artifacts": published})
        return output

    outcome = run_leased(deps, work, body)
    done = work.done
    if message.stage == Stage.STORY_INDEX:
        _register_index(deps, message.task_id)
    if not outcome.committed or done is None:
        return StageClaim(outcome.decision)
    if done.status == TaskStatus.COMPLETED:
        log.info("task COMPLETED", extra=work.labels)
    elif done.status == TaskStatus.RUNNING and done.current.state == LeaseState.WAITING:
        schedule_watchdog(deps, done)
        count = publish_pending(deps, done)
        log.info("stage %s fanned out %s segments", message.stage.value, count,
                 extra=work.labels)
    elif done.status == TaskStatus.RUNNING:
        publish_stage(deps, done.id, done.current.stage)
    return StageClaim(outcome.decision)


def _register_index(deps: Deps, task_id: str) -> None:
    """A completed deploy's index becomes its asset's. Run after every delivery of the stage,
    a redelivery to the completed task included: the worker that committed it may have died
    before registering it (registering is idempotent)."""
    task = deps.tasks.get(task_id) if is_valid_id(task_id) else None
    if task is not None:
        assets.register(deps, task)


def _fanned_in(deps: Deps, task: Task, stage: Stage) -> list[Segment]:
    """The segments this stage waited on, in index order ([] for other stages)."""
    if task.progress is None or task.progress.stage != stage:
        return []
    return deps.segments.list_for_task(task.id, task.progress.plan)


def on_dead_letter(deps: Deps, message: StageMessage) -> bool:
    """A stage message ran out of delivery attempts: fail the task with the last cause.

    Returns whether the task was failed (a twin of a live, healthy stage is ignored).
    """
    def change(task: Task) -> Task:
        run = task.current
        if task.is_terminal or run.stage != message.stage or run.is_live(deps.clock()):
            return task
        error = exhausted_error(f"Stage {message.stage.value}", run,
                                {"stage": message.stage.value})
        return rules.fail(task, error, deps.clock())

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

    Before its deadline the check is the task's watchdog: work that nobody holds (a message
    lost on its way, a worker that died with no redelivery left, a task stored but never
    published) is published again, and the next check is scheduled. Raises NotFound for a
    task that does not exist (never stored, or expired) or a malformed id, so the caller
    acknowledges the check instead of retrying it forever.
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
        if after.progress is not None:
            count_failed_fan_out(deps, task_id)
    elif not after.is_terminal:
        # The successor first: should publishing fail, the chain of checks goes on.
        schedule_watchdog(deps, after)
        _republish_stalled(deps, after)
    return failed


def _republish_stalled(deps: Deps, task: Task) -> None:
    """Publish again what nobody is working on. A duplicate of a message still on its way is
    dropped by the claim, so erring towards publishing is safe; a stage is left alone until
    it has been idle for a watchdog period, so a busy queue is not flooded with duplicates."""
    if task.waiting_on:
        check_late_uploads(deps, task)  # the upload's check starts it
        return
    if task.current.state == LeaseState.WAITING:
        republish_stalled(deps, task)
        return
    idle = deps.clock() - task.modified
    if task.current.is_stalled(deps.clock()) \
            and idle >= timedelta(seconds=deps.settings.watchdog_seconds):
        log.warning("republished stalled stage %s", task.current.stage.value,
                    extra={"task_id": task.id})
        publish_stage(deps, task.id, task.current.stage, trace=task.trace)
