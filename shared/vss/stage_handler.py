"""The contract between the leased-work runners (`vss.service.stages`, `vss.service.segments`)
and the handlers (`vss.handlers`): what a handler is given, and what it gives back.

A leaf: it imports nothing above the domain and the ports, so the runners and the handlers
both depend on it and never on each other. A handler's own configuration is bound to it by
`vss.bootstrap`; the context carries only what changes from one task to the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from vss.domain.results import AnyStageResult, ArtifactDigest
from vss.domain.segments import Segment
from vss.domain.tasks import Task
from vss.domain.usage import NO_USAGE, Meter, Usage
from vss.metering import Allowance, MeteredEmbedder, MeteredLlm, no_daily_limits
from vss.ports import (
    Embedder,
    EmbedderFactory,
    LlmFactory,
    SceneVectorStore,
    StructuredLlm,
    TaskStorage,
)

P = TypeVar("P", bound=BaseModel)


@dataclass(kw_only=True)
class HandlerContext:
    task: Task
    files: TaskStorage
    llm_for: LlmFactory
    # What the attempt has spent on model calls so far; charged to the task even when the
    # attempt fails. Calls made through `llm` are added to it as they return.
    spent: Meter = field(default_factory=Meter)
    # The tenant's daily quotas (speech characters, model tokens), read on first use: every
    # model call is checked against them before it is made, and a handler checks what it is
    # about to synthesise (`check_tts_characters`) before it spends.
    allowance: Allowance = no_daily_limits

    def llm(self, model: str | None = None) -> StructuredLlm | None:
        """The model the task asked for (None: the configured default), metered into
        `spent` and checked against the day's token quota; None when no model is configured
        (the offline writers then write)."""
        llm = self.llm_for(model)
        return MeteredLlm(llm, self.spent, self.allowance) if llm is not None else None

    def check_tts_characters(self, characters: int) -> None:
        """Raise `TtsCharactersQuotaExceeded` unless `characters` more fit in today's."""
        self.allowance().check_tts_characters(self.spent.total, characters)


@dataclass(kw_only=True)
class StageContext(HandlerContext):
    inputs: BaseModel  # the stage's typed payload (vss.domain.pipeline.stage_inputs)
    # For the stage that waited on fanned-out work: each item's output, in index order.
    fanned_in: list[dict[str, Any]] = field(default_factory=list)
    # Where embeddings story indexes keep their scene vectors.
    vectors: SceneVectorStore
    # The story indexes' embedding models (`embedder` meters them).
    embedder_for: EmbedderFactory

    def embedder(self, model: str | None = None, dimensions: int | None = None
                 ) -> Embedder | None:
        """The embedding model asked for (None: the configured one), metered into `spent`;
        None when none is configured (story indexes are lexical then)."""
        embedder = self.embedder_for(model, dimensions)
        return MeteredEmbedder(embedder, self.spent, self.allowance) \
            if embedder is not None else None

    def inputs_as(self, model: type[P]) -> P:
        """The inputs as the payload model this handler was registered for."""
        if not isinstance(self.inputs, model):
            raise TypeError(f"{model.__name__} expected, got {type(self.inputs).__name__}")
        return self.inputs


@dataclass
class StageOutput:
    result: AnyStageResult
    # What the stage spent besides its metered model calls (speech characters, their cost).
    usage: Usage = NO_USAGE
    # Work items to fan out (one message each); the next stage runs when all are done.
    fan_out: list[dict[str, Any]] = field(default_factory=list)


StageHandler = Callable[[StageContext], StageOutput]


@dataclass(kw_only=True)
class SegmentContext(HandlerContext):
    """What a segment handler is given: one fanned-out item of a task's stage."""

    segment: Segment


@dataclass
class SegmentOutput:
    output: dict[str, Any]
    # What the segment spent besides its metered model calls.
    usage: Usage = NO_USAGE
    # The files the attempt wrote, with their digests (filled in by the runner).
    artifacts: list[ArtifactDigest] = field(default_factory=list)


SegmentHandler = Callable[[SegmentContext], SegmentOutput]
