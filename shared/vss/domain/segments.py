"""A dubbing segment: the unit of the TTS fan-out, retried alone.

The dubbing stage plans the segments; each is synthesised by its own Pub/Sub message, claimed
with a lease like a stage (so a redelivery retakes a segment whose worker died, and a duplicate
of a finished or live segment does nothing); the last one to finish moves the task on to
assembly, inside the transaction that records it (`vss.domain.tasks.segment_finished`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from vss.domain.tasks import Task, TaskError
from vss.errors import RetryableError


class SegmentState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class Segment(BaseModel):
    task_id: str
    index: int = Field(ge=0)
    state: SegmentState = SegmentState.QUEUED
    attempts: int = 0
    lease_until: datetime | None = None
    last_error: TaskError | None = None
    request: dict[str, Any] = Field(description="What to synthesise: the plan's entry.")
    output: dict[str, Any] | None = Field(None, description="What the synthesis produced.")
    usage: dict[str, float] = Field(default_factory=dict)
    expire_at: datetime | None = None


class SegmentClaim(StrEnum):
    """What a worker holding a segment message should do."""

    RUN = "run"
    DONE_ALREADY = "done_already"  # duplicate delivery of a finished segment
    CLOSED = "closed"  # the task ended (failed, canceled) or moved past its segments
    BUSY = "busy"  # another worker holds a live lease: let the message come back later
    EXHAUSTED = "exhausted"  # every attempt is spent: the task fails naming the segment
    UNKNOWN = "unknown"  # no such task or segment: drop the message


def segment_claim_decision(
    task: Task, segment: Segment, now: datetime, max_attempts: int
) -> SegmentClaim:
    if task.is_terminal:
        return SegmentClaim.CLOSED
    if segment.state == SegmentState.DONE:
        return SegmentClaim.DONE_ALREADY
    progress = task.progress
    if progress is None or task.current.stage != progress.stage \
            or task.current.state != "waiting":
        return SegmentClaim.CLOSED
    if segment.state == SegmentState.RUNNING and segment.lease_until is not None \
            and segment.lease_until > now:
        return SegmentClaim.BUSY
    if segment.attempts >= max_attempts:
        return SegmentClaim.EXHAUSTED
    return SegmentClaim.RUN


def claim_segment(segment: Segment, now: datetime, lease: timedelta) -> Segment:
    """Take the segment; call only after `segment_claim_decision` said RUN."""
    return segment.model_copy(update={"state": SegmentState.RUNNING,
                                      "attempts": segment.attempts + 1,
                                      "lease_until": now + lease})


def release_segment(segment: Segment, error: TaskError) -> Segment:
    """A transient failure: give the segment back for the redelivered message to retake."""
    if segment.state == SegmentState.DONE:
        return segment
    return segment.model_copy(update={"state": SegmentState.QUEUED, "lease_until": None,
                                      "last_error": error})


def finish_segment(segment: Segment, output: dict[str, Any], usage: dict[str, float]) -> Segment:
    return segment.model_copy(update={"state": SegmentState.DONE, "lease_until": None,
                                      "output": output, "usage": usage})


def retry_segment(segment: Segment) -> Segment:
    """A segment that spent its attempts gets them back (the task is resumed)."""
    if segment.state == SegmentState.DONE:
        return segment
    return segment.model_copy(update={"state": SegmentState.QUEUED, "attempts": 0,
                                      "lease_until": None})


def exhausted_error(segment: Segment) -> TaskError:
    cause = segment.last_error
    return TaskError(
        code=cause.code if cause else RetryableError.code,
        message=f"Segment {segment.index} failed after {segment.attempts} attempts: "
                f"{cause.message if cause else 'no cause recorded'}",
        details={"segment": segment.index, "attempts": segment.attempts,
                 "last_error": cause.model_dump() if cause else None},
    )
