"""What a stage reads: its typed inputs, from one function of the task and its earlier results.

A single-stage task carries the stage's whole payload. In a task of several stages, an input
that an earlier stage produced (the narration script dubbing reads, the dubbing script editing
reads) is taken from that stage's result, so a later stage never needs it in the payload.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from vss.domain.payloads import (
    PAYLOADS,
    STAGE_PAYLOADS,
    GenerateCommentaryPayload,
    point_at_stage_params,
)
from vss.domain.pointers import validated
from vss.domain.tasks import PIPELINES, Stage, Task, TaskType
from vss.errors import PayloadInvalid

# input field of a stage → the earlier stage whose main artifact feeds it
CHAINED_INPUTS: dict[Stage, dict[str, Stage]] = {
    Stage.DUBBING: {"input_narration_path": Stage.NARRATION},
    Stage.DUBBING_ASSEMBLY: {"input_narration_path": Stage.NARRATION},
    Stage.EDITING: {"input_dubbing_path": Stage.DUBBING_ASSEMBLY},
}


# The last stage of each `stop_at` of a commentary task.
STOP_AT: dict[str, Stage] = {"narration": Stage.NARRATION, "dubbing": Stage.DUBBING_ASSEMBLY,
                             "editing": Stage.EDITING}


def pipeline_for(task_type: TaskType, payload: BaseModel) -> list[Stage]:
    """The stages a new task runs: its type's pipeline, cut at a commentary's `stop_at`."""
    stages = list(PIPELINES[task_type])
    if isinstance(payload, GenerateCommentaryPayload):
        stages = stages[:stages.index(STOP_AT[payload.stop_at]) + 1]
    return stages


def stage_inputs(task: Task, stage: Stage) -> BaseModel:
    """The stage's typed payload; raises PayloadInvalid (with JSON pointers) if it is wrong."""
    chained = {field: task.results[source].output_file_path
               for field, source in CHAINED_INPUTS.get(stage, {}).items()
               if source in task.results}
    message = f"The {stage.value} stage's inputs are invalid."
    if task.task_type == TaskType.GENERATE_COMMENTARY:
        commentary = validated(PAYLOADS[task.task_type], task.payload, PayloadInvalid, message,
                               "/payload")
        assert isinstance(commentary, GenerateCommentaryPayload)
        return commentary.stage_payload(stage, chained)
    return validated(STAGE_PAYLOADS[stage], {**task.payload, **chained}, PayloadInvalid,
                     message, "/payload")


def point_at_task_params(task: Task, stage: Stage, details: Any) -> None:
    """An error a stage raised about its `service_params`, pointed at where the task's
    payload keeps them (in place)."""
    if task.task_type == TaskType.GENERATE_COMMENTARY:
        point_at_stage_params(stage, details)
