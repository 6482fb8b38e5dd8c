"""What a stage reads: its typed inputs, from one function of the task and its earlier results.

A single-stage task carries the stage's whole payload. In a task of several stages, an input
that an earlier stage produced (the narration script dubbing reads, the dubbing script editing
reads) is taken from that stage's result, so a later stage never needs it in the payload.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from vss.domain.payloads import (
    GenerateCommentaryPayload,
    GenerateDubbingPayload,
    GenerateEditingPayload,
    GenerateNarrationPayload,
    LocalizeNarrationPayload,
)
from vss.domain.pointers import validated
from vss.domain.tasks import PIPELINES, Stage, Task, TaskType
from vss.errors import PayloadInvalid

STAGE_PAYLOADS: dict[Stage, type[BaseModel]] = {
    Stage.NARRATION: GenerateNarrationPayload,
    Stage.DUBBING: GenerateDubbingPayload,
    Stage.DUBBING_ASSEMBLY: GenerateDubbingPayload,
    Stage.EDITING: GenerateEditingPayload,
    Stage.LOCALIZATION: LocalizeNarrationPayload,
}

# input field of a stage → the earlier stage whose main artifact feeds it
CHAINED_INPUTS: dict[Stage, dict[str, Stage]] = {
    Stage.DUBBING: {"input_narration_path": Stage.NARRATION},
    Stage.DUBBING_ASSEMBLY: {"input_narration_path": Stage.NARRATION},
    Stage.EDITING: {"input_dubbing_path": Stage.DUBBING_ASSEMBLY},
}


# The last stage of each `stop_at` of a commentary task.
STOP_AT: dict[str, Stage] = {"narration": Stage.NARRATION, "dubbing": Stage.DUBBING_ASSEMBLY,
                             "editing": Stage.EDITING}
# Where a commentary task keeps each stage's parameters.
COMMENTARY_PARAMS: dict[Stage, str] = {
    Stage.NARRATION: "narration", Stage.DUBBING: "dubbing", Stage.DUBBING_ASSEMBLY: "dubbing",
    Stage.EDITING: "editing",
}


def pipeline_for(task_type: TaskType, payload: BaseModel) -> list[Stage]:
    """The stages a new task runs: its type's pipeline, cut at a commentary's `stop_at`."""
    stages = list(PIPELINES[task_type])
    if isinstance(payload, GenerateCommentaryPayload):
        stages = stages[:stages.index(STOP_AT[payload.stop_at]) + 1]
    return stages


def _commentary_stage_payload(payload: dict[str, Any], stage: Stage) -> dict[str, Any]:
    """A commentary stage's payload in the shape of the single-stage task it runs as."""
    raw = {"blueprint_path": payload.get("blueprint_path"),
           "service_params": payload.get(COMMENTARY_PARAMS[stage], {})}
    if stage == Stage.NARRATION:
        raw |= {k: payload[k] for k in ("asset_name", "asset_id") if payload.get(k)}
    return raw


def stage_inputs(task: Task, stage: Stage) -> BaseModel:
    """The stage's typed payload; raises PayloadInvalid (with JSON pointers) if it is wrong."""
    raw: dict[str, Any] = _commentary_stage_payload(task.payload, stage) \
        if task.task_type == TaskType.GENERATE_COMMENTARY else dict(task.payload)
    for field, source in CHAINED_INPUTS.get(stage, {}).items():
        if source in task.results:
            raw[field] = task.results[source].output_file_path
    try:
        return validated(STAGE_PAYLOADS[stage], raw, PayloadInvalid,
                         f"The {stage.value} stage's inputs are invalid.", "/payload")
    except PayloadInvalid as exc:
        point_at_stage_params(task, stage, exc.details)
        raise


def point_at_stage_params(task: Task, stage: Stage, details: Any) -> None:
    """In a commentary task, a stage's `service_params` are under the stage's own key of the
    payload: make the error's JSON pointers say so, in place."""
    if task.task_type != TaskType.GENERATE_COMMENTARY or not isinstance(details, dict):
        return
    key = f"/payload/{COMMENTARY_PARAMS[stage]}"
    for error in details.get("errors", []):
        if isinstance(error, dict) and isinstance(error.get("pointer"), str):
            error["pointer"] = error["pointer"].replace("/payload/service_params", key, 1)
