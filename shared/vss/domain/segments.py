"""A dubbing segment: the unit of the TTS fan-out, retried alone.

The dubbing stage plans the segments; each is synthesised by its own Pub/Sub message, leased
like a stage (`vss.domain.leases`): a redelivery retakes a segment whose worker died, a
duplicate of a finished or live segment does nothing, and only the attempt holding the lease
can record the segment's output. The last one to finish moves the task on to assembly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from vss.domain.artifacts import SegmentFit, SegmentLoudness
from vss.domain.failures import TaskError
from vss.domain.leases import Lease, LeaseState
from vss.domain.leases import exhausted_error as lease_exhausted
from vss.domain.results import ArtifactDigest
from vss.domain.tasks import Task
from vss.domain.usage import NO_USAGE, Usage


class Segment(Lease):
    task_id: str
    index: int = Field(ge=0)
    request: dict[str, Any] = Field(description="What to synthesise: the plan's entry.")
    output: dict[str, Any] | None = Field(None, description="What the synthesis produced.")
    artifacts: list[ArtifactDigest] = Field(
        default_factory=list, description="The files the winning attempt wrote.")
    usage: Usage = NO_USAGE
    finished_at: datetime | None = None
    expire_at: datetime | None = None


class SegmentRecord(BaseModel):
    """What happened to one segment: kept with its state, read by assembly."""

    index: int
    basename: str
    narration: str = Field(description="The text actually spoken.")
    original_narration: str | None = None
    source_scene_ids: list[int]
    lang: str
    duration_seconds: float
    fit: SegmentFit
    loudness: SegmentLoudness
    engine: str
    voice: str
    speakers: dict[str, str] = Field(default_factory=dict, description="speaker -> voice")
    fallback_reason: str | None = None
    tts_characters: dict[str, int] = Field(default_factory=dict)
    delivery_notes: list[str] = Field(default_factory=list)


class SynthesizedSegmentOutput(BaseModel):
    """What a synthesised segment leaves on its segment record (`Segment.output`) for assembly."""

    audio_file_path: str
    record: SegmentRecord = Field(description="Fit, loudness, engine and voice of the segment.")


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
    if segment.state == LeaseState.DONE:
        return SegmentClaim.DONE_ALREADY
    if not waits_on_segments(task):
        return SegmentClaim.CLOSED
    if segment.is_live(now):
        return SegmentClaim.BUSY
    if segment.attempts >= max_attempts:
        return SegmentClaim.EXHAUSTED
    return SegmentClaim.RUN


def waits_on_segments(task: Task) -> bool:
    """The task is running and its current stage waits on its fanned-out segments."""
    progress = task.progress
    return not task.is_terminal and progress is not None \
        and task.current.stage == progress.stage and task.current.state == LeaseState.WAITING


def finish_segment(segment: Segment, token: str, output: dict[str, Any],
                   usage: Usage, artifacts: list[ArtifactDigest], now: datetime) -> Segment:
    """Attempt `token`'s output; a stale attempt (another holds it, or it is done) changes
    nothing."""
    if not segment.holds(token):
        return segment
    return segment.ended(token).model_copy(update={
        "output": output, "usage": usage, "artifacts": artifacts, "finished_at": now})


def stalled_segments(segments: list[Segment], now: datetime, idle: timedelta
                     ) -> list[Segment]:
    """The segments whose message may be lost: those nobody works on, once the whole fan-out
    has stood still for `idle` (no segment under a live lease, none finished within it).

    While the fan-out moves, a queued segment is waiting its turn in the subscription's
    backlog (Pub/Sub keeps a published message until it is acknowledged or dead-lettered),
    so publishing it again would only queue a duplicate behind it: at every watchdog period,
    as many duplicates as segments waiting."""
    moving = any(s.is_live(now) or (s.finished_at is not None and now - s.finished_at < idle)
                 for s in segments)
    return [] if moving else [s for s in segments if s.is_stalled(now)]


def exhausted_error(segment: Segment) -> TaskError:
    return lease_exhausted(f"Segment {segment.index}", segment, {"segment": segment.index})
