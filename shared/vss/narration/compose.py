"""GENERATE_NARRATION's core: dataset + control parameters → a paced narration script.

scope → character focus → plan (budgets) → writer (Gemini, or the offline writer when no
model is configured) → pacing (≤ N rewrite requests, then a cut at a sentence boundary).
"""

from __future__ import annotations

from collections.abc import Callable

from vss.config import NarrationConfig
from vss.domain.artifacts import NarrationScript, NarrationSnippet, NarrationUsage
from vss.domain.dataset import Dataset
from vss.domain.language import SpeechRate
from vss.domain.payloads import NarrationServiceParams, NarrativeFocus, Style
from vss.domain.usage import Usage
from vss.errors import LlmError, PayloadInvalid
from vss.narration.first_person import RETELLING_LANGUAGES
from vss.narration.fit import Rewriter, fit
from vss.narration.focus import FocusLens, read_focus
from vss.narration.language import dataset_language
from vss.narration.llm_writer import LlmWriter, Written, style_rule
from vss.narration.offline import write_offline
from vss.narration.plan import NarrationPlan, PlannedSnippet, make_plan
from vss.narration.prompts import PROMPT_VERSION
from vss.narration.scope import apply_focus, check_characters, select_scenes
from vss.ports import StructuredLlm

OFFLINE = "offline"
OfflineWriter = Callable[[list[PlannedSnippet]], list[tuple[str, tuple[int, ...]]]]


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


def _offline(dataset: Dataset, plan: NarrationPlan, params: NarrationServiceParams,
             rate: SpeechRate) -> OfflineWriter:
    """The offline writer over a part of the plan. It writes only in the dataset's own
    language: for a plan in another language it has nothing to offer."""
    same_language = dataset_language(dataset) == plan.lang

    def write(snippets: list[PlannedSnippet]) -> list[tuple[str, tuple[int, ...]]]:
        if not same_language:
            return [("", ())] * len(snippets)
        sub = NarrationPlan(plan.lang, plan.target_seconds, tuple(snippets))
        return write_offline(dataset, sub, params.control_params, text_lang=plan.lang,
                             rate=rate)
    return write


def _offline_notes(dataset: Dataset, params: NarrationServiceParams, lens: FocusLens,
                   lang: str) -> list[str]:
    """What the offline writer can only approximate."""
    control = params.control_params
    notes = ["offline writer: no Gemini credentials are configured"]
    if control.narrative_focus == NarrativeFocus.CUSTOM:
        notes += lens.notes
    if control.style == Style.CUSTOM:
        notes.append("custom style is followed only by the Gemini writer: offline the "
                     "narration is written in the objective voice")
    for knob, custom in (("narrative_focus", NarrativeFocus.CUSTOM), ("style", Style.CUSTOM)):
        text = getattr(control.custom_prompts, knob, None) if control.custom_prompts else None
        if text and text.strip() and getattr(control, knob) != custom:
            notes.append(f"custom_prompts.{knob} is followed only by the Gemini writer")
    if control.perspective == "first_person" and lang not in RETELLING_LANGUAGES:
        notes.append(f"the offline writer cannot retell {lang} in the first person: the "
                     f"narration is in the third person")
    if dataset_language(dataset) != params.lang.value:
        notes.append(f"the offline writer cannot translate: the narration is in the "
                     f"dataset's language ({lang}), not {params.lang.value}")
    return notes


def narrate(dataset: Dataset, params: NarrationServiceParams, llm: StructuredLlm | None,
            config: NarrationConfig | None = None) -> NarrationScript:
    config = config or NarrationConfig()
    rate = speech_rate(params, config)
    lens = focus_lens(dataset, params)
    # Offline, text is paced and voiced as what it is: text in the dataset's language.
    lang = params.lang.value if llm is not None else dataset_language(dataset)
    notes = [] if llm is not None else _offline_notes(dataset, params, lens, lang)
    plan = plan_for(dataset, params, config, lang, lens)
    offline = _offline(dataset, plan, params, rate)
    usage = Usage()
    rewrite: Rewriter | None = None
    if llm is None:
        written = {s.index: Written(text, list(ids), OFFLINE) for s, (text, ids)
                   in zip(plan.snippets, offline(list(plan.snippets)), strict=True)}
    else:
        writer = LlmWriter(llm, prompt_budget_tokens=config.prompt_budget_tokens)
        result = writer.write(dataset, plan, params.control_params, offline, lens)
        written, notes = result.written, notes + result.notes

        def rewrite(late: list[tuple[PlannedSnippet, str]]) -> dict[int, str]:
            return writer.rewrite(late, plan.lang, style_rule(params.control_params))

    fitted = fit(plan, {i: w.text for i, w in written.items()}, rewrite, rate,
                 config.max_rewrites)
    if llm is not None:
        usage = writer.usage

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
    if not snippets and llm is not None and dataset_language(dataset) != lang:
        raise LlmError("The model gave no usable narration and the offline writer cannot "
                       f"write {lang}.", details={"model": getattr(llm, "model", llm.name)})
    if not snippets:
        raise PayloadInvalid("The scenes in scope have no text to narrate from.",
                             details={"errors": [{"pointer": "/scenes", "reason": "no summaries, "
                                                  "dynamics, highlights or dialogue"}]})
    return NarrationScript(
        narration_script=snippets, config_snapshot=params.model_dump(mode="json"),
        engine=llm.name if llm else OFFLINE, lang=lang, prompt_version=PROMPT_VERSION if llm
        else None, target_duration_seconds=plan.target_seconds,
        estimated_duration_seconds=round(sum(s.pacing.estimated_seconds for s in snippets
                                             if s.pacing), 3),
        usage=NarrationUsage.model_validate(usage.model_dump()), notes=notes,
    )
