"""LOCALIZE_NARRATION: a narration script and its dataset in, the script in another language
out (`narration_<target_lang>.json`), fitted to the same footage."""

from __future__ import annotations

from vss.domain.artifacts import NarrationScript
from vss.domain.payloads import LocalizeNarrationPayload
from vss.domain.results import LocalizationResult
from vss.engines._io import configured_rate, read_dataset, read_model, write_json
from vss.narration.llm import MeteredLlm
from vss.narration.localize import UNCHANGED, LocalizeConfig, localize
from vss.stage_handler import StageContext, StageOutput


def run(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(LocalizeNarrationPayload)
    params = payload.service_params
    settings = ctx.settings
    master = read_model(ctx.files, payload.master_script_path, NarrationScript)
    dataset = read_dataset(ctx.files, payload.blueprint_path)
    config = LocalizeConfig(rate=configured_rate(settings),
                            prompt_budget_tokens=settings.narration_prompt_budget_tokens,
                            max_rewrites=settings.narration_max_rewrites)
    model = ctx.llm_for(settings, params.model)
    llm = MeteredLlm(model) if model else None
    try:
        script = localize(master, dataset, params, llm, config)
    finally:
        if llm is not None:
            ctx.spent.update(llm.spent.as_dict())
    script.config_snapshot["master_script_path"] = payload.master_script_path
    path = write_json(ctx.files, f"narration_{params.target_lang.value}.json", script)
    usage = script.usage.model_dump() if script.usage else {}
    return StageOutput(
        result=LocalizationResult(
            output_file_path=path, snippets=len(script.narration_script),
            engine=script.engine or UNCHANGED, source_lang=params.lang.value,
            target_lang=params.target_lang.value,
            estimated_duration_seconds=script.estimated_duration_seconds, notes=script.notes,
        ),
        usage={k: float(v) for k, v in usage.items()},
    )
