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
from vss.service.errors import safe_error
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
        message = SegmentMessage(task_id=task_id, index=segment.index)
        deps.publisher.publish(deps.settings.segments_topic, message.model_dump_json().encode(),
                               task_id=task_id, segment=str(segment.index))
    return len(pending)


def run_segment(deps: Deps, message: SegmentMessage,
                handler: SegmentHandler | None = None) -> SegmentClaim:
    """Claim, synthesise and record one segment. Raises RetryableError for the trigger to
    redeliver it; the last segment to finish publishes the waiting stage."""
    handler = handler or deps.segment_handler
    if handler is None:
        raise UnexpectedError("This function has no segment handler.")
    labels = {"task_id": message.task_id, "segment": str(message.index)}
    decision: list[SegmentClaim] = []
    lease = timedelta(seconds=deps.settings.segment_lease_seconds)

    def take(task: Task, segment: Segment) -> tuple[Task, Segment]:
        now = deps.clock()
        decision[:] = [segment_claim_decision(task, segment, now,
                                              deps.settings.segment_max_attempts)]
        if decision[0] == SegmentClaim.RUN:
            return task, claim_segment(segment, now, lease)
        if decision[0] == SegmentClaim.EXHAUSTED:
            return rules.fail(task, exhausted_error(segment), now), segment
        return task, segment

    try:
        if not is_valid_id(message.task_id):
            raise NotFound("No such task.", details=labels)
        _, (task, segment) = deps.segments.update(message.task_id, message.index, take)
    except NotFound:
        log.warning("segment message dropped: no such segment", extra=labels)
        return SegmentClaim.UNKNOWN
    outcome = decision[0]
    if outcome == SegmentClaim.BUSY:
        log.info("segment message sent back: it is running elsewhere", extra=labels)
        raise StageBusy("The segment is being synthesised elsewhere.", details=labels)
    if outcome == SegmentClaim.EXHAUSTED:
        log.warning("task FAILED: segment %s exhausted its attempts", message.index,
                    extra=labels)
        return outcome
    if outcome == SegmentClaim.DONE_ALREADY:
        _start_waiting_stage(deps, task)  # its finisher may have died before publishing
        log.info("segment message dropped: done already", extra=labels)
        return outcome
    if outcome != SegmentClaim.RUN:
        log.info("segment message dropped: %s", outcome.value, extra=labels)
        return outcome

    context = SegmentContext(
        task=task, segment=segment, files=TaskFiles(deps, task.tenant_id, task.id),
        settings=deps.settings, llm_for=deps.llm_for, synthesizer=deps.synthesizer,
    )
    try:
        output = handler(context)
    except PermanentError as exc:
        _fail(deps, message, exc, context.spent, labels)
        return outcome
    except Exception as exc:
        error = exc if isinstance(exc, VssError) else UnexpectedError(
            f"{type(exc).__name__}: {exc}")
        safe = safe_error(deps.settings, error)
        deps.segments.update(message.task_id, message.index, lambda t, s: (
            rules.charge(t, context.spent), release_segment(s, safe)))
        log.warning("segment %s failed, will retry: %s", message.index, safe.message,
                    extra=labels)
        raise RetryableError(safe.message, details=safe.details, code=safe.code) from None

    def finish(current: Task, seg: Segment) -> tuple[Task, Segment]:
        if seg.state == "done":
            return current, seg  # a twin finished first: count it once
        return (rules.segment_finished(current, output.usage, deps.clock()),
                finish_segment(seg, output.output, output.usage))

    _, (after, _) = deps.segments.update(message.task_id, message.index, finish)
    if after.progress is not None:
        log.info("segment %s done (%s/%s)", message.index, after.progress.done,
                 after.progress.total, extra=labels)
    _start_waiting_stage(deps, after)
    return outcome


def _start_waiting_stage(deps: Deps, task: Task) -> None:
    """Publish the stage that waited on the segments once all are done (at least once: a
    duplicate stage message is dropped by the stage claim)."""
    progress = task.progress
    if (task.status == TaskStatus.RUNNING and progress is not None
            and progress.done == progress.total and task.current.stage == progress.stage
            and task.current.state == "queued"):
        publish_stage(deps, task.id, task.current.stage)


def _fail(deps: Deps, message: SegmentMessage, exc: VssError, spent: dict[str, float],
          labels: dict[str, str]) -> None:
    safe = safe_error(deps.settings, exc)
    error = TaskError(code=safe.code, message=f"Segment {message.index}: {safe.message}",
                      details={"segment": message.index, **safe.details})

    def change(task: Task, segment: Segment) -> tuple[Task, Segment]:
        if task.is_terminal:
            return task, segment
        return rules.charge(rules.fail(task, error, deps.clock()), spent), segment

    deps.segments.update(message.task_id, message.index, change)
    log.warning("task FAILED: %s", error.message, extra=labels)


def on_dead_segment(deps: Deps, message: SegmentMessage) -> bool:
    """A segment message ran out of deliveries: fail the task naming the segment, unless the
    segment finished or is alive."""
    def change(task: Task, segment: Segment) -> tuple[Task, Segment]:
        live = segment.state == "running" and segment.lease_until is not None \
            and segment.lease_until > deps.clock()
        if task.is_terminal or segment.state == "done" or live:
            return task, segment
        return rules.fail(task, exhausted_error(segment), deps.clock()), segment

    try:
        if not is_valid_id(message.task_id):
            raise NotFound("No such task.")
        (before, _), (after, _) = deps.segments.update(message.task_id, message.index, change)
    except NotFound:
        log.warning("dead segment dropped: no such segment", extra={"task_id": message.task_id})
        return False
    failed = after.status == TaskStatus.FAILED and before.status != TaskStatus.FAILED
    if failed:
        log.error("task FAILED: segment %s dead-lettered", message.index,
                  extra={"task_id": message.task_id})
    return failed
