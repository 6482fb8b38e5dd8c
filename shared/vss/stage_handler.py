"""The contract between the stage runner (`vss.service.stages`) and the stage handlers
(`vss.engines`): what a handler is given, and what it gives back.

A leaf: it imports nothing above the domain and the ports, so the runner and the engines both
depend on it and never on each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel

from vss.config import Settings
from vss.domain.results import AnyStageResult
from vss.domain.tasks import Task
from vss.ports import LlmFactory, Synthesizer, TaskStorage

P = TypeVar("P", bound=BaseModel)


@dataclass
class StageContext:
    task: Task
    inputs: BaseModel  # the stage's typed payload (vss.domain.pipeline.stage_inputs)
    files: TaskStorage
    settings: Settings
    llm_for: LlmFactory
    synthesizer: Synthesizer
    # What the handler has spent so far (model tokens, cost); charged to the task even when
    # the attempt fails. A successful attempt reports its usage in StageOutput instead.
    spent: dict[str, float] = field(default_factory=dict)

    def inputs_as(self, model: type[P]) -> P:
        """The inputs as the payload model this handler was registered for."""
        if not isinstance(self.inputs, model):
            raise TypeError(f"{model.__name__} expected, got {type(self.inputs).__name__}")
        return self.inputs


@dataclass
class StageOutput:
    result: AnyStageResult
    usage: dict[str, float] = field(default_factory=dict)


StageHandler = Callable[[StageContext], StageOutput]
