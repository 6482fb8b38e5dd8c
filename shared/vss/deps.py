"""What the service layer runs with: settings, ports and stage handlers. Built by
`vss.bootstrap` with real adapters, by tests with fakes; the service layer only sees this."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel

from vss.config import Settings
from vss.domain.tasks import Stage, TaskType
from vss.ports import (
    BlobStore,
    DeadlineScheduler,
    FileRepository,
    IdempotencyRepository,
    LlmFactory,
    Publisher,
    SegmentRepository,
    StructuredLlm,
    TaskRepository,
    TenantRepository,
)
from vss.stage_handler import SegmentHandler, StageHandler


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_llm(settings: Settings, model: str | None) -> StructuredLlm | None:
    """No model configured: narration uses the offline writer."""
    return None


@dataclass
class Deps:
    settings: Settings
    tasks: TaskRepository
    files: FileRepository
    tenants: TenantRepository
    blobs: BlobStore
    publisher: Publisher
    deadlines: DeadlineScheduler
    segments: SegmentRepository
    idempotency: IdempotencyRepository
    clock: Callable[[], datetime] = field(default=utc_now)
    llm_for: LlmFactory = field(default=no_llm)
    # Only the stage worker runs stages; other functions leave this empty (and so do not
    # import the engines and what they depend on).
    handlers: Mapping[Stage, StageHandler] = field(default_factory=dict)
    # Only the TTS worker synthesises segments.
    segment_handler: SegmentHandler | None = None
    # Checks of a task type's payload that need more than its model (a voice template that
    # exists), run at creation so a mistake is a 400, not a failed task.
    payload_checks: Mapping[TaskType, Callable[[BaseModel], None]] = field(default_factory=dict)
