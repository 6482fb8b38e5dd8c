"""What the service layer runs with: settings, ports and handlers. Built by `vss.bootstrap`
(one function per deployed function), with real adapters or, in tests, fakes; the service
layer only sees this."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from vss.config import Settings
from vss.domain.tasks import Stage
from vss.ports import (
    AssetRepository,
    AuditLog,
    BlobStore,
    DeadLetterLog,
    DeadlineScheduler,
    Embedder,
    EmbedderFactory,
    FileRepository,
    FunctionStarts,
    IdempotencyRepository,
    LlmFactory,
    Publisher,
    SceneVectorStore,
    SegmentRepository,
    StructuredLlm,
    TaskRepository,
    TenantRepository,
    UsageLedger,
)
from vss.stage_handler import SegmentHandler, StageHandler


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_llm(model: str | None) -> StructuredLlm | None:
    """No model configured: narration uses the offline writer."""
    return None


def no_embedder(model: str | None, dimensions: int | None) -> Embedder | None:
    """No embedding model configured: story indexes are lexical."""
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
    usage: UsageLedger  # spend per tenant per UTC day
    idempotency: IdempotencyRepository
    assets: AssetRepository
    vectors: SceneVectorStore
    audit: AuditLog
    dead_letters: DeadLetterLog
    starts: FunctionStarts
    clock: Callable[[], datetime] = field(default=utc_now)
    llm_for: LlmFactory = field(default=no_llm)
    # The story indexes' embedding models: what a deploy embeds with, what embeds a query.
    embedder_for: EmbedderFactory = field(default=no_embedder)
    # Only the stage worker runs stages; other functions leave this empty (and so do not
    # import the handlers and what they depend on).
    handlers: Mapping[Stage, StageHandler] = field(default_factory=dict)
    # Only the TTS worker synthesises segments.
    segment_handler: SegmentHandler | None = None
