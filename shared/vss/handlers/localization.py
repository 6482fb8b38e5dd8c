"""LOCALIZE_NARRATION: a narration script and its dataset in, the script in another language
out (`narration_<target_lang>.json`), fitted to the same footage."""

from __future__ import annotations

from vss.domain.artifacts import NarrationScript
from vss.domain.payloads import LocalizeNarrationPayload
from vss.domain.results import LocalizationResult
from vss.handler_config import NarrationConfig
from vss.handlers._io import read_dataset, read_model, write_json
from vss.narration.localize import UNCHANGED, localize
from vss.stage_handler import StageContext, StageOutput


def run(ctx: StageContext, *, config: NarrationConfig) -> StageOutput:
    payload = ctx.inputs_as(LocalizeNarrationPayload)
    params = payload.service_params
    master = read_model(ctx.files, payload.master_script_path, NarrationScript)
    dataset = read_dataset(ctx.files, payload.blueprint_path)
    script = localize(master, dataset, params, ctx.llm(params.model), config)
    script.config_snapshot["master_script_path"] = payload.master_script_path
    path = write_json(ctx.files, f"narration_{params.target_lang.value}.json", script)
    return StageOutput(result=LocalizationResult(
        output_file_path=path, snippets=len(script.narration_script),
        engine=script.engine or UNCHANGED, source_lang=params.lang.value,
        target_lang=params.target_lang.value,
        estimated_duration_seconds=script.estimated_duration_seconds, notes=script.notes,
    ))
