"""GENERATE_NARRATION's core: dataset + control parameters → a paced narration script.

scope → character focus → plan (budgets) → writer (the model, or the offline writer when no
model is configured: vss.narration.writers) → pacing (≤ N rewrite requests, then a cut at a
sentence boundary).
"""

from __future__ import annotations

from vss.domain.artifacts import NarrationScript, NarrationSnippet, NarrationUsage
from vss.domain.dataset import Dataset
from vss.domain.language import SpeechRate
from vss.domain.payloads import NarrationServiceParams
from vss.errors import PayloadInvalid, VssError
from vss.handler_config import NarrationConfig
from vss.narration.fit import fit
from vss.narration.focus import FocusLens, read_focus
from vss.narration.language import dataset_language
from vss.narration.plan import NarrationPlan, make_plan
from vss.narration.retrieval import Retrieved, facts_rule, weighted
from vss.narration.scope import apply_focus, check_characters, select_scenes
from vss.narration.writers import NarrationWriter, writer_for
from vss.ports import StructuredLlm


def speech_rate(params: NarrationServiceParams, config: NarrationConfig) -> SpeechRate:
    """The configured rates, with the request's `speaking_rate` for the requested language."""
    if params.speaking_rate is None:
        return config.rate
    return config.rate.with_rate(params.lang.value, params.speaking_rate)


def focus_lens(dataset: Dataset, params: NarrationServiceParams) -> FocusLens:
    """The narrative focus read in the dataset's own words."""
    return read_focus(dataset, params.control_params, dataset_language(dataset))


def plan_for(dataset: Dataset, params: NarrationServiceParams, config: NarrationConfig,
             lang: str | None = None, lens: FocusLens | None = None) -> NarrationPlan:
    """The plan in `lang` (default: the requested language)."""
    control = params.control_params
    check_characters(dataset, control)
    scenes, featured = apply_focus(select_scenes(dataset, control.scope),
                                   control.character_focus)
    lens = lens or focus_lens(dataset, params)
    return make_plan(dataset, scenes, lang=lang or params.lang.value,
                     target_seconds=control.target_duration_minutes * 60, featured=featured,
                     relevance=lens.relevance, overflow_tolerance=params.overflow_tolerance,
                     rate=speech_rate(params, config), snippet_seconds=config.snippet_seconds)


def _silence(writer: NarrationWriter) -> VssError:
    """Why nothing came out: the writer's own failing, else the scenes have nothing to say."""
    error = writer.silence_error()
    if error is not None:
        return error
    return PayloadInvalid("The scenes in scope have no text to narrate from.",
                          details={"errors": [{"pointer": "/scenes", "reason": "no summaries, "
                                               "dynamics, highlights or dialogue"}]})


def narrate(dataset: Dataset, params: NarrationServiceParams, llm: StructuredLlm | None,
            config: NarrationConfig | None = None,
            retrieved: Retrieved | None = None) -> NarrationScript:
    """The narration script of `dataset` for `params`, written by `llm` (the offline writer
    when it is None) and fitted to the footage; with `retrieved` (the asset's story index),
    the retrieved scenes weigh more and the model is told the characters' facts."""
    config = config or NarrationConfig()
    rate = speech_rate(params, config)
    lens = focus_lens(dataset, params)
    if retrieved is not None:
        lens = weighted(lens, retrieved)
    writer = writer_for(llm, dataset, params, rate, lens,
                        prompt_budget_tokens=config.prompt_budget_tokens,
                        known_facts=facts_rule(retrieved))
    lang = writer.lang
    plan = plan_for(dataset, params, config, lang, lens)
    drafted = writer.write(plan)
    written, notes = drafted.written, drafted.notes
    fitted = fit(plan, {i: w.text for i, w in written.items()}, writer.rewriter, rate,
                 config.max_rewrites)

    snippets = []
    dropped = []
    for planned in plan.snippets:
        done = fitted[planned.index]
        if not done.text:
            dropped.append(planned.index)
            continue
        snippets.append(NarrationSnippet(
            narration=done.text, source_scene_ids=written[planned.index].scene_ids,
            narrative_function=planned.function.value, engine=written[planned.index].engine,
            pacing=done.pacing(planned, rate.units_per_second(lang)),
        ))
    if dropped:
        notes.append(f"nothing to say within budget for planned snippets {dropped}: their "
                     f"footage plays without narration")
    if not snippets:
        raise _silence(writer)
    return NarrationScript(
        narration_script=snippets, config_snapshot=params.model_dump(mode="json"),
        engine=writer.engine, lang=lang, prompt_version=writer.prompt_version,
        target_duration_seconds=plan.target_seconds,
        estimated_duration_seconds=round(sum(s.pacing.estimated_seconds for s in snippets
                                             if s.pacing), 3),
        usage=NarrationUsage.model_validate(writer.usage.model_dump()), notes=notes,
    )
