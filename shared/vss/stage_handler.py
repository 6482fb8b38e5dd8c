"""The contract between the stage runner (`vss.service.stages`) and the stage handlers
(`vss.engines`): what a handler is given, and what it gives back.

A leaf: it imports nothing above the domain and the ports, so the runner and the engines both
depend on it and never on each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from vss.config import Settings
from vss.domain.results import AnyStageResult, ArtifactDigest
from vss.domain.segments import Segment
from vss.domain.tasks import Task
from vss.ports import LlmFactory, TaskStorage

P = TypeVar("P", bound=BaseModel)


@dataclass
class StageContext:
    task: Task
    inputs: BaseModel  # the stage's typed payload (vss.domain.pipeline.stage_inputs)
    files: TaskStorage
    settings: Settings
    llm_for: LlmFactory
    # What the handler has spent so far (model tokens, cost); charged to the task even when
    # the attempt fails. A successful attempt reports its usage in StageOutput instead.
    spent: dict[str, float] = field(default_factory=dict)
    # For the stage that waited on fanned-out work: each item's output, in index order.
    fanned_in: list[dict[str, Any]] = field(default_factory=list)

    def inputs_as(self, model: type[P]) -> P:
        """The inputs as the payload model this handler was registered for."""
        if not isinstance(self.inputs, model):
            raise TypeError(f"{model.__name__} expected, got {type(self.inputs).__name__}")
        return self.inputs


@dataclass
class StageOutput:
    result: AnyStageResult
    usage: dict[str, float] = field(default_factory=dict)
    # Work items to fan out (one message each); the next stage runs when all are done.
    fan_out: list[dict[str, Any]] = field(default_factory=list)


StageHandler = Callable[[StageContext], StageOutput]


@dataclass
class SegmentContext:
    """What a segment handler is given: one fanned-out item of a task's stage."""

    task: Task
    segment: Segment
    files: TaskStorage
    settings: Settings
    llm_for: LlmFactory
    spent: dict[str, float] = field(default_factory=dict)


@dataclass
class SegmentOutput:
    output: dict[str, Any]
    usage: dict[str, float] = field(default_factory=dict)
    # The files the attempt wrote, with their digests (filled in by the runner).
    artifacts: list[ArtifactDigest] = field(default_factory=list)


SegmentHandler = Callable[[SegmentContext], SegmentOutput]
