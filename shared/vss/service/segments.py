"""The TTS fan-out: storing and publishing a stage's segments, and running one segment per
segment message (claimed with a lease, retried alone, counted on the task when it finishes).

Idempotency is keyed on the segment's state, as for stages: a duplicate of a finished segment
is dropped (never counted twice, never synthesised again), a twin of a live one is sent back,
and a segment whose worker died is retaken when its lease runs out.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.ids import is_valid_id
from vss.domain.messages import SegmentMessage
from vss.domain.segments import (
    Segment,
    SegmentClaim,
    claim_segment,
    exhausted_error,
    finish_segment,
    release_segment,
    segment_claim_decision,
)
from vss.domain.tasks import Task, TaskError, TaskStatus
from vss.errors import (
    NotFound,
    PermanentError,
    RetryableError,
    StageBusy,
    UnexpectedError,
    VssError,
)
from vss.service.errors import fail_task, safe_error
from vss.service.storage import TaskFiles
from vss.service.tasks import publish_stage
from vss.stage_handler import SegmentContext, SegmentHandler

log = logging.getLogger(__name__)


def store_segments(deps: Deps, task: Task, requests: list[dict[str, object]]) -> None:
    """Record the planned segments before the task starts waiting on them."""
    deps.segments.put_new(task.id, [
        Segment(task_id=task.id, index=index, request=dict(request), expire_at=task.expire_at)
        for index, request in enumerate(requests)
    ])


def publish_pending(deps: Deps, task_id: str) -> int:
    """Publish a message for every segment not done yet (all of them after planning; the
    missing ones when a stage message finds its task still waiting). Returns how many."""
    pending = [s for s in deps.segments.list_for_task(task_id) if s.state != "done"]
    for segment in pending:
        _publish(deps, task_id, segment.index)
    return len(pending)


def _publish(deps: Deps, task_id: str, index: int) -> None:
    message = SegmentMessage(task_id=task_id, index=index)
    deps.publisher.publish(deps.settings.segments_topic, message.model_dump_json().encode(),
                           task_id=task_id, segment=str(index))


def republish_stalled(deps: Deps, task_id: str) -> int:
    """Publish again every segment that nobody is working on: queued, or running under a
    lease that ran out. A duplicate of a message still on its way is dropped by the claim."""
    now = deps.clock()
    stalled = [s for s in deps.segments.list_for_task(task_id) if s.state == "queued" or (
        s.state == "running" and s.lease_until is not None and s.lease_until <= now)]
    for segment in stalled:
        _publish(deps, task_id, segment.index)
    if stalled:
        log.warning("republished %s stalled segments", len(stalled), extra={"task_id": task_id})
    return len(stalled)


def schedule_watchdog(deps: Deps, task: Task) -> None:
    """The next check of a task waiting on its segments (the deadline check, sooner)."""
    soon = deps.clock() + timedelta(seconds=deps.settings.segment_watchdog_seconds)
    deps.deadlines.schedule(task.id, min(soon, task.deadline_at))


def run_segment(deps: Deps, message: SegmentMessage,
                handler: SegmentHandler | None = None) -> SegmentClaim:
    """Claim, synthesise and record one segment. Raises RetryableError for the trigger to
    redeliver it; the last segment to finish publishes the waiting stage."""
    handler = handler or deps.segment_handler
    if handler is None:
        raise UnexpectedError("This function has no segment handler.")
    labels = {"task_id": message.task_id, "segment": str(message.index)}
    task = deps.tasks.get(message.task_id) if is_valid_id(message.task_id) else None
    if task is None:
        log.warning("segment message dropped: no such task", extra=labels)
        return SegmentClaim.UNKNOWN
    decision: list[SegmentClaim] = []
    lease = timedelta(seconds=deps.settings.segment_lease_seconds)

    def take(segment: Segment) -> Segment:
        now = deps.clock()
        decision[:] = [segment_claim_decision(task, segment, now,
                                              deps.settings.segment_max_attempts)]
        return claim_segment(segment, now, lease) if decision[0] == SegmentClaim.RUN \
            else segment

    try:
        _, segment = deps.segments.update(message.task_id, message.index, take)
    except NotFound:
        log.warning("segment message dropped: no such segment", extra=labels)
        return SegmentClaim.UNKNOWN
    outcome = decision[0]
    if outcome == SegmentClaim.BUSY:
        log.info("segment message sent back: it is running elsewhere", extra=labels)
        raise StageBusy("The segment is being synthesised elsewhere.", details=labels)
    if outcome == SegmentClaim.EXHAUSTED:
        fail_task(deps, task.id, exhausted_error(segment), {}, labels)
        return outcome
    if outcome == SegmentClaim.DONE_ALREADY:
        _start_waiting_stage(deps, task.id, republish=True)  # its finisher may have died
        log.info("segment message dropped: done already", extra=labels)
        return outcome
    if outcome != SegmentClaim.RUN:
        log.info("segment message dropped: %s", outcome.value, extra=labels)
        return outcome

    context = SegmentContext(
        task=task, segment=segment, files=TaskFiles(deps, task.tenant_id, task.id),
        settings=deps.settings, llm_for=deps.llm_for,
    )
    try:
        output = handler(context)
    except PermanentError as exc:
        safe = safe_error(deps.settings, exc)
        fail_task(deps, task.id, TaskError(
            code=safe.code, message=f"Segment {message.index}: {safe.message}",
            details={"segment": message.index, **safe.details}), context.spent, labels)
        return outcome
    except Exception as exc:
        error = exc if isinstance(exc, VssError) else UnexpectedError(
            f"{type(exc).__name__}: {exc}")
        safe = safe_error(deps.settings, error)
        deps.segments.update(message.task_id, message.index,
                             lambda s: release_segment(s, safe))
        if context.spent:
            deps.tasks.update(task.id, lambda t: rules.charge(t, context.spent))
        log.warning("segment %s failed, will retry: %s", message.index, safe.message,
                    extra=labels)
        raise RetryableError(safe.message, details=safe.details, code=safe.code) from None

    finished = deps.segments.finish(
        message.task_id, message.index,
        lambda s: finish_segment(s, output.output, output.usage), output.usage)
    log.info("segment %s %s", message.index,
             "done" if finished else "done by a twin first", extra=labels)
    _start_waiting_stage(deps, task.id, republish=False)
    return outcome


def _start_waiting_stage(deps: Deps, task_id: str, *, republish: bool) -> None:
    """Once every segment is done, make the waiting stage ready (in a transaction: exactly
    one caller does) and publish it. With `republish`, also publish it when another worker
    made it ready but may have died before publishing (the stage claim drops duplicates)."""
    task = deps.tasks.get(task_id)
    progress = task.progress if task else None
    if task is None or progress is None or progress.done < progress.total \
            or task.status != TaskStatus.RUNNING or task.current.stage != progress.stage:
        return
    if task.current.state == "waiting":
        before, after = deps.tasks.update(task_id,
                                          lambda t: rules.start_when_fanned_in(t, deps.clock()))
        if before.current.state == "waiting" and after.current.state == "queued":
            log.info("all %s segments done: %s starts", progress.total, after.current.stage,
                     extra={"task_id": task_id})
            publish_stage(deps, task_id, after.current.stage)
    elif republish and task.current.state == "queued":
        publish_stage(deps, task_id, task.current.stage)


def on_dead_segment(deps: Deps, message: SegmentMessage) -> bool:
    """A segment message ran out of deliveries: fail the task naming the segment, unless the
    segment finished or is alive."""
    try:
        segments = deps.segments.list_for_task(message.task_id) \
            if is_valid_id(message.task_id) else []
        segment = next(s for s in segments if s.index == message.index)
    except StopIteration:
        log.warning("dead segment dropped: no such segment", extra={"task_id": message.task_id})
        return False
    live = segment.state == "running" and segment.lease_until is not None \
        and segment.lease_until > deps.clock()
    if segment.state == "done" or live:
        return False

    def change(task: Task) -> Task:
        if task.is_terminal:
            return task
        return rules.fail(task, exhausted_error(segment), deps.clock())

    before, after = deps.tasks.update(message.task_id, change)
    failed = after.status == TaskStatus.FAILED and before.status != TaskStatus.FAILED
    if failed:
        log.error("task FAILED: segment %s dead-lettered", message.index,
                  extra={"task_id": message.task_id})
    return failed
