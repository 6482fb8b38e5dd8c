"""GENERATE_NARRATION: the dataset and control parameters in, narration.json out."""

from __future__ import annotations

from vss.config import NarrationConfig
from vss.domain.payloads import GenerateNarrationPayload
from vss.domain.results import NarrationResult
from vss.handlers._io import read_dataset, write_json
from vss.narration.compose import narrate
from vss.stage_handler import StageContext, StageOutput


def run(ctx: StageContext, *, config: NarrationConfig) -> StageOutput:
    payload = ctx.inputs_as(GenerateNarrationPayload)
    params = payload.service_params
    dataset = read_dataset(ctx.files, payload.blueprint_path)
    # The request's speaking_rate, if any, replaces its language's configured rate in narrate.
    script = narrate(dataset, params, ctx.llm(params.model), config)
    path = write_json(ctx.files, "narration.json", script)
    return StageOutput(result=NarrationResult(
        output_file_path=path, snippets=len(script.narration_script),
        engine=script.engine or "offline",
        estimated_duration_seconds=script.estimated_duration_seconds, notes=script.notes,
    ))
