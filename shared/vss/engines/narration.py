"""GENERATE_NARRATION: the dataset and control parameters in, narration.json out."""

from __future__ import annotations

from vss.domain.payloads import GenerateNarrationPayload
from vss.domain.results import NarrationResult
from vss.engines._io import configured_rate, read_dataset, write_json
from vss.narration.compose import NarrationConfig, narrate
from vss.narration.llm import MeteredLlm
from vss.stage_handler import StageContext, StageOutput


def run(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(GenerateNarrationPayload)
    settings = ctx.settings
    dataset = read_dataset(ctx.files, payload.blueprint_path)
    # The request's speaking_rate, if any, replaces its language's configured rate in narrate.
    config = NarrationConfig(
        rate=configured_rate(settings),
        prompt_budget_tokens=settings.narration_prompt_budget_tokens,
        max_rewrites=settings.narration_max_rewrites,
    )
    model = ctx.llm_for(settings, payload.service_params.model)
    llm = MeteredLlm(model) if model else None
    try:
        script = narrate(dataset, payload.service_params, llm, config)
    finally:
        if llm is not None:
            ctx.spent.update(llm.spent.as_dict())
    path = write_json(ctx.files, "narration.json", script)
    usage = script.usage.model_dump() if script.usage else {}
    return StageOutput(
        result=NarrationResult(
            output_file_path=path, snippets=len(script.narration_script),
            engine=script.engine or "offline",
            estimated_duration_seconds=script.estimated_duration_seconds, notes=script.notes,
        ),
        usage={k: float(v) for k, v in usage.items()},
    )
