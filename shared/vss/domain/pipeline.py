"""What a stage reads: its typed inputs, from one function of the task and its earlier results.

A single-stage task carries the stage's whole payload. In a task of several stages, an input
that an earlier stage produced (the narration script dubbing reads, the dubbing script editing
reads) is taken from that stage's result, so a later stage never needs it in the payload.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from vss.domain.payloads import (
    GenerateDubbingPayload,
    GenerateEditingPayload,
    GenerateNarrationPayload,
)
from vss.domain.pointers import validated
from vss.domain.tasks import Stage, Task
from vss.errors import PayloadInvalid

STAGE_PAYLOADS: dict[Stage, type[BaseModel]] = {
    Stage.NARRATION: GenerateNarrationPayload,
    Stage.DUBBING: GenerateDubbingPayload,
    Stage.DUBBING_ASSEMBLY: GenerateDubbingPayload,
    Stage.EDITING: GenerateEditingPayload,
}

# input field of a stage → the earlier stage whose main artifact feeds it
CHAINED_INPUTS: dict[Stage, dict[str, Stage]] = {
    Stage.DUBBING: {"input_narration_path": Stage.NARRATION},
    Stage.EDITING: {"input_dubbing_path": Stage.DUBBING_ASSEMBLY},
}


def stage_inputs(task: Task, stage: Stage) -> BaseModel:
    """The stage's typed payload; raises PayloadInvalid (with JSON pointers) if it is wrong."""
    raw: dict[str, Any] = dict(task.payload)
    for field, source in CHAINED_INPUTS.get(stage, {}).items():
        if source in task.results:
            raw[field] = task.results[source].output_file_path
    return validated(STAGE_PAYLOADS[stage], raw, PayloadInvalid,
                     f"The {stage.value} stage's inputs are invalid.", "/payload")
