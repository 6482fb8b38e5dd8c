"""The TTS fan-out: storing and publishing a stage's segments, running one segment per
segment message (claimed with a lease, retried alone), and the fan-in: counting the finished
segments from their documents until every one is done.

Idempotency is keyed on the segment's state, as for stages: a duplicate of a finished segment
is dropped (never counted twice, never synthesised again), a twin of a live one is sent back,
and a segment whose worker died is retaken when its lease runs out. Each attempt is fenced
(`vss.service.leased`) and writes its WAV in its own folder: a stale twin can neither record
its take nor overwrite the published one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache

from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.ids import is_valid_id
from vss.domain.leases import LeaseState
from vss.domain.messages import SegmentMessage
from vss.domain.segments import (
    Segment,
    SegmentClaim,
    exhausted_error,
    finish_segment,
    segment_claim_decision,
    stalled_segments,
    waits_on_segments,
)
from vss.domain.tasks import Task, TaskError, TaskStatus
from vss.domain.usage import NO_USAGE, Usage
from vss.errors import NotFound, RetryableError, StageBusy, UnexpectedError
from vss.service import quotas
from vss.service.failures import fail_task
from vss.service.leased import Attempt, run_leased
from vss.service.spending import charge_tenant
from vss.service.storage import TaskFiles
from vss.service.tasks import publish_stage
from vss.stage_handler import SegmentContext, SegmentHandler, SegmentOutput

log = logging.getLogger(__name__)
# Each lost compare-and-set means another writer succeeded: a handful of rounds is plenty.
_START_ATTEMPTS = 20


def store_segments(deps: Deps, task: Task, plan: str, requests: list[dict[str, object]]
                   ) -> None:
    """Record plan `plan`'s segments before the task starts waiting on them."""
    deps.segments.put_new(task.id, plan, [
        Segment(task_id=task.id, index=index, request=dict(request), expire_at=task.expire_at)
        for index, request in enumerate(requests)
    ])


def _segments(deps: Deps, task: Task) -> list[Segment]:
    return deps.segments.list_for_task(task.id, task.progress.plan) if task.progress else []


def publish_pending(deps: Deps, task: Task) -> int:
    """Publish a message for every segment not done yet (all of them after planning; the
    missing ones when a stage message finds its task still waiting). Returns how many."""
    pending = [s for s in _segments(deps, task) if s.state != LeaseState.DONE]
    _publish(deps, task, pending)
    return len(pending)


def _publish(deps: Deps, task: Task, segments: list[Segment]) -> None:
    assert task.progress is not None
    if not segments:
        return
    plan = task.progress.plan
    deps.publisher.publish_all(deps.settings.segments_topic, [
        (SegmentMessage(task_id=task.id, plan=plan, index=s.index).model_dump_json().encode(),
         {"task_id": task.id, "segment": str(s.index)})
        for s in segments])


def publish_current(deps: Deps, task: Task) -> None:
    """Publish what the task waits for now: its queued stage, or its pending segments."""
    if task.current.state == LeaseState.QUEUED:
        publish_stage(deps, task.id, task.current.stage)
    elif task.current.state == LeaseState.WAITING:
        publish_pending(deps, task)


def republish_stalled(deps: Deps, task: Task) -> int:
    """Publish again every segment that nobody is working on (queued, or running under a
    lease that ran out) once the fan-out stood still for a watchdog period. A duplicate of a
    message still on its way is dropped by the claim."""
    idle = timedelta(seconds=deps.settings.watchdog_seconds)
    stalled = stalled_segments(_segments(deps, task), deps.clock(), idle)
    _publish(deps, task, stalled)
    if stalled:
        log.warning("republished %s stalled segments", len(stalled), extra={"task_id": task.id})
    return len(stalled)


class SegmentWork:
    """One segment of a fan-out as leased work (`vss.service.leased`): the lease lives on the
    segment's document; finishing it counts it on the task in the same transaction."""

    def __init__(self, deps: Deps, message: SegmentMessage, task: Task) -> None:
        self.deps, self.message, self.task = deps, message, task
        self.what = f"segment {message.index}"
        self.labels = {"task_id": message.task_id, "segment": str(message.index)}
        self.lease = timedelta(seconds=deps.settings.segment_lease_seconds)
        self.segment: Segment | None = None  # as claimed

    def _update(self, change: Callable[[Segment], Segment]) -> tuple[Segment, Segment]:
        m = self.message
        return self.deps.segments.update(m.task_id, m.plan, m.index, change)

    def _charge(self, spent: Usage) -> None:
        if not spent.is_zero:
            self.deps.tasks.update(self.task.id, lambda t: rules.charge(t, spent))
            charge_tenant(self.deps, self.task, spent)

    def claim(self, token: str) -> str:
        decision: list[SegmentClaim] = []
        task, labels = self.task, self.labels

        def take(segment: Segment) -> Segment:
            now = self.deps.clock()
            decision[:] = [segment_claim_decision(task, segment, now,
                                                  self.deps.settings.segment_max_attempts)]
            if task.progress is None or task.progress.plan != self.message.plan:
                decision[:] = [SegmentClaim.CLOSED]  # a plan whose commit lost
            return segment.claimed(token, now, self.lease) \
                if decision[0] == SegmentClaim.RUN else segment

        try:
            _, self.segment = self._update(take)
        except NotFound:
            log.warning("segment message dropped: no such segment", extra=labels)
            return SegmentClaim.UNKNOWN
        outcome = decision[0]
        if outcome == SegmentClaim.BUSY:
            log.warning("segment message sent back: it is running elsewhere", extra=labels)
            raise StageBusy("The segment is being synthesised elsewhere.", details=labels)
        if outcome == SegmentClaim.EXHAUSTED:
            fail_task(self.deps, task.id, exhausted_error(self.segment), NO_USAGE, labels)
            count_failed_fan_out(self.deps, task.id)
        elif outcome == SegmentClaim.DONE_ALREADY:
            fan_in(self.deps, task.id, republish=True)  # its finisher may have died
            log.info("segment message dropped: done already", extra=labels)
        elif outcome != SegmentClaim.RUN:
            log.info("segment message dropped: %s", outcome.value, extra=labels)
        return outcome

    def renew(self, token: str, until: datetime) -> None:
        self._update(lambda s: s.renewed(token, until))

    def release(self, token: str, error: TaskError, spent: Usage) -> bool:
        before, _ = self._update(lambda s: s.released(token, error))
        self._charge(spent)
        return before.holds(token)

    def fail(self, token: str, error: TaskError, spent: Usage) -> bool:
        before, _ = self._update(lambda s: s.ended(token, LeaseState.QUEUED))
        if not before.holds(token):
            self._charge(spent)
            return False
        fail_task(self.deps, self.task.id, TaskError(
            code=error.code, message=f"Segment {self.message.index}: {error.message}",
            details={"segment": self.message.index, **error.details}), spent, self.labels)
        count_failed_fan_out(self.deps, self.task.id)
        return True

    def finish(self, token: str, output: SegmentOutput, spent: Usage) -> bool:
        usage = spent + output.usage
        now = self.deps.clock()
        before, after = self._update(lambda s: finish_segment(
            s, token, output.output, usage, output.artifacts, now))
        if after is before:  # stale: nothing recorded, so the task is charged directly
            self._charge(usage)
            return False
        charge_tenant(self.deps, self.task, usage)  # the task sums it from the segment
        return True


def run_segment(deps: Deps, message: SegmentMessage,
                handler: SegmentHandler | None = None) -> SegmentClaim:
    """Claim, synthesise and record one segment. Raises RetryableError for the trigger to
    redeliver it; the last segment to finish publishes the waiting stage."""
    handler = handler or deps.segment_handler
    if handler is None:
        raise UnexpectedError("This function has no segment handler.")
    labels = {"task_id": message.task_id, "segment": str(message.index)}
    if not (is_valid_id(message.task_id) and is_valid_id(message.plan)):
        log.warning("segment message dropped: no task or plan has such an id", extra=labels)
        return SegmentClaim.UNKNOWN
    # One read for both; the claim then writes the segment on the version read here.
    task, _ = deps.segments.task_and_segment(message.task_id, message.plan, message.index)
    if task is None:
        log.warning("segment message dropped: no such task", extra=labels)
        return SegmentClaim.UNKNOWN
    work = SegmentWork(deps, message, task)

    def body(attempt: Attempt) -> SegmentOutput:
        assert work.segment is not None
        files = TaskFiles(deps, task.tenant_id, task.id, attempt=attempt.token)
        output = handler(SegmentContext(
            task=task, segment=work.segment, files=files, llm_for=deps.llm_for,
            spent=attempt.spent,
            allowance=cache(lambda: quotas.daily_allowance(deps, task.tenant_id))))
        output.artifacts = files.written
        return output

    outcome = run_leased(deps, work, body)
    if outcome.committed:
        log.info("segment %s done", message.index, extra=labels)
        fan_in(deps, task.id, known_task=task)
    return SegmentClaim(outcome.decision)


def fan_in(deps: Deps, task_id: str, *, republish: bool = False,
           known_task: Task | None = None) -> None:
    """Count the fan-out's done segments from their documents. Once every one is done, make
    the waiting stage ready with what they spent (by compare and set: exactly one caller does)
    and publish it; until then, copy the count to the task at most once per
    `rules.PROGRESS_EVERY`. With `republish`, also publish the stage when another worker made
    it ready but may have died before publishing (the stage claim drops duplicates).

    `known_task` is the task as the caller read it before its segment: its plan and total let
    the count come first, and a count short of the total reads the task again only at a
    progress milestone (`rules.progress_milestone`). Everything decided is decided on the
    task read after the count."""
    counted: int | None = None
    if known_task is not None and known_task.progress is not None:
        counted = deps.segments.count_done(task_id, known_task.progress.plan)
        if counted < known_task.progress.total \
                and not rules.progress_milestone(counted, known_task.progress.total):
            return
    task = deps.tasks.get(task_id)
    progress = task.progress if task else None
    if task is None or progress is None or task.status != TaskStatus.RUNNING \
            or task.current.stage != progress.stage:
        return
    if task.current.state == LeaseState.QUEUED:
        if republish:
            publish_stage(deps, task_id, task.current.stage)
        return
    if task.current.state != LeaseState.WAITING:
        return
    plan, now = progress.plan, deps.clock()
    same_plan = known_task is not None and known_task.progress is not None \
        and known_task.progress.plan == plan
    done = counted if counted is not None and same_plan \
        else deps.segments.count_done(task_id, plan)
    if done < progress.total:
        if rules.progress_due(task, plan, done, now):  # a note: skipped if another came first
            deps.tasks.update_if_unchanged(task_id, lambda t: rules.counted(t, plan, done, now)
                                           if rules.progress_due(t, plan, done, now) else t)
        return
    spent = deps.segments.spent_by_done(task_id, plan)
    if _start_once(deps, task_id, lambda t: rules.start_when_fanned_in(t, plan, done, spent,
                                                                        now)):
        log.info("all %s segments done: %s starts", progress.total, progress.stage,
                 extra={"task_id": task_id})
        publish_stage(deps, task_id, progress.stage)


def _start_once(deps: Deps, task_id: str, start: Callable[[Task], Task]) -> bool:
    """Whether this caller made the waiting stage ready. Compare and set rather than a
    transaction: the last workers of a fan-out count the total at about the same moment,
    and transactions that all read then write one document abort each other; of the writers
    that read one version, exactly one succeeds, and the others read again and find the
    stage started."""
    for _ in range(_START_ATTEMPTS):
        outcome = deps.tasks.update_if_unchanged(task_id, start)
        if outcome is not None:
            before, after = outcome
            return before.current.state == LeaseState.WAITING \
                and after.current.state == LeaseState.QUEUED
    raise RetryableError(f"task {task_id} is being changed by others; try again.",
                         details={"task_id": task_id})


def count_failed_fan_out(deps: Deps, task_id: str) -> None:
    """A task that failed during its fan-out keeps the count of its done segments and what
    they spent (its progress is otherwise copied at most once a second, and their usage only
    at the fan-in)."""
    task = deps.tasks.get(task_id)
    if task is None or task.progress is None:
        return
    plan, now = task.progress.plan, deps.clock()
    done = deps.segments.count_done(task_id, plan)
    spent = deps.segments.spent_by_done(task_id, plan)
    deps.tasks.update(task_id, lambda t: rules.counted(t, plan, done, now, spent))


def on_dead_segment(deps: Deps, message: SegmentMessage) -> bool:
    """A segment message ran out of deliveries: fail the task naming the segment, unless the
    segment finished or is alive."""
    try:
        segments = deps.segments.list_for_task(message.task_id, message.plan) \
            if is_valid_id(message.task_id) and is_valid_id(message.plan) else []
        segment = next(s for s in segments if s.index == message.index)
    except StopIteration:
        log.warning("dead segment dropped: no such segment", extra={"task_id": message.task_id})
        return False
    if segment.state == LeaseState.DONE or segment.is_live(deps.clock()):
        return False

    def change(task: Task) -> Task:
        if not waits_on_segments(task) or task.progress is None \
                or task.progress.plan != message.plan:
            return task
        return rules.fail(task, exhausted_error(segment), deps.clock())

    before, after = deps.tasks.update(message.task_id, change)
    failed = after.status == TaskStatus.FAILED and before.status != TaskStatus.FAILED
    if failed:
        log.error("task FAILED: segment %s dead-lettered", message.index,
                  extra={"task_id": message.task_id})
        count_failed_fan_out(deps, message.task_id)
    return failed
