"""GENERATE_NARRATION's core: dataset + control parameters → a paced narration script.

scope → character focus → plan (budgets) → writer (Gemini, or the offline writer when no
model is configured) → pacing (≤ N rewrite requests, then a cut at a sentence boundary).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from vss.domain.artifacts import NarrationScript, NarrationSnippet, NarrationUsage, Pacing
from vss.domain.dataset import Dataset
from vss.domain.payloads import NarrationServiceParams
from vss.errors import LlmError, PayloadInvalid
from vss.narration.language import dataset_language
from vss.narration.llm_writer import LlmWriter, Written
from vss.narration.offline import write_offline
from vss.narration.pacing import SpeechRate, cut_to_budget, speech_seconds
from vss.narration.plan import NarrationPlan, PlannedSnippet, make_plan
from vss.narration.prompts import PROMPT_VERSION
from vss.narration.scope import apply_focus, check_characters, select_scenes
from vss.ports import StructuredLlm, Usage

OFFLINE = "offline"
OfflineWriter = Callable[[list[PlannedSnippet]], list[tuple[str, tuple[int, ...]]]]


@dataclass(frozen=True)
class NarrationConfig:
    rate: SpeechRate = field(default_factory=SpeechRate)
    prompt_budget_tokens: int = 24_000
    max_rewrites: int = 2
    snippet_seconds: float = 20.0


def plan_for(dataset: Dataset, params: NarrationServiceParams, config: NarrationConfig,
             lang: str | None = None) -> NarrationPlan:
    """The plan in `lang` (default: the requested language)."""
    control = params.control_params
    check_characters(dataset, control)
    scenes, featured = apply_focus(select_scenes(dataset, control.scope),
                                   control.character_focus)
    return make_plan(dataset, scenes, lang=lang or params.lang.value,
                     target_seconds=control.target_duration_minutes * 60, featured=featured,
                     rate=config.rate, snippet_seconds=config.snippet_seconds)


def _offline(dataset: Dataset, plan: NarrationPlan, params: NarrationServiceParams,
             config: NarrationConfig) -> OfflineWriter:
    """The offline writer over a part of the plan. It writes only in the dataset's own
    language: for a plan in another language it has nothing to offer."""
    same_language = dataset_language(dataset) == plan.lang

    def write(snippets: list[PlannedSnippet]) -> list[tuple[str, tuple[int, ...]]]:
        if not same_language:
            return [("", ())] * len(snippets)
        sub = NarrationPlan(plan.lang, plan.target_seconds, tuple(snippets))
        return write_offline(dataset, sub, params.control_params,
                                          text_lang=plan.lang, rate=config.rate)
    return write


def _fit(plan: NarrationPlan, written: dict[int, Written], writer: LlmWriter | None,
         params: NarrationServiceParams, config: NarrationConfig) -> dict[int, tuple[str, int]]:
    """(text, rewrites) per snippet, each within budget: rewrite rounds, then a cut."""
    lang = plan.lang
    texts = {i: w.text for i, w in written.items()}
    rewrites = dict.fromkeys(texts, 0)
    by_index = {s.index: s for s in plan.snippets}

    def over() -> list[PlannedSnippet]:
        return [by_index[i] for i, t in texts.items()
                if speech_seconds(t, lang, config.rate) > by_index[i].budget_seconds]

    for _ in range(config.max_rewrites if writer else 0):
        late = over()
        if not late:
            break
        shorter = writer.rewrite([(s, texts[s.index]) for s in late], plan,  # type: ignore[union-attr]
                                 params.control_params)
        for snippet in late:
            rewrites[snippet.index] += 1
            if snippet.index in shorter:
                texts[snippet.index] = shorter[snippet.index]
    return {i: (t, rewrites[i]) for i, t in texts.items()}


def narrate(dataset: Dataset, params: NarrationServiceParams, llm: StructuredLlm | None,
            config: NarrationConfig | None = None) -> NarrationScript:
    config = config or NarrationConfig()
    notes: list[str] = []
    lang = params.lang.value
    if llm is None:
        notes.append("offline writer: no Gemini credentials are configured")
        if params.control_params.custom_prompts:
            notes.append("custom_prompts are followed only by the Gemini writer")
        if dataset_language(dataset) != lang:
            # Paced and voiced as what it is: text in the dataset's language.
            lang = dataset_language(dataset)
            notes.append(f"the offline writer cannot translate: the narration is in the "
                         f"dataset's language ({lang}), not {params.lang.value}")
    plan = plan_for(dataset, params, config, lang)
    offline = _offline(dataset, plan, params, config)
    usage = Usage()
    writer: LlmWriter | None = None
    if llm is None:
        written = {s.index: Written(text, list(ids), OFFLINE) for s, (text, ids)
                   in zip(plan.snippets, offline(list(plan.snippets)), strict=True)}
    else:
        writer = LlmWriter(llm, prompt_budget_tokens=config.prompt_budget_tokens)
        result = writer.write(dataset, plan, params.control_params, offline)
        written, notes = result.written, notes + result.notes
    fitted = _fit(plan, written, writer, params, config)
    if writer is not None:
        usage = writer.usage

    snippets = []
    dropped = []
    for planned in plan.snippets:
        text, rewrites = fitted[planned.index]
        estimated = speech_seconds(text, lang, config.rate)
        action = "rewritten" if rewrites else "fits"
        if estimated > planned.budget_seconds:
            text, action = cut_to_budget(text, planned.budget_seconds, lang, config.rate), "cut"
            estimated = speech_seconds(text, lang, config.rate)
        if not text:
            dropped.append(planned.index)
            continue
        snippets.append(NarrationSnippet(
            narration=text, source_scene_ids=written[planned.index].scene_ids,
            narrative_function=planned.function.value, engine=written[planned.index].engine,
            pacing=Pacing(footage_seconds=planned.footage_seconds,
                          budget_seconds=planned.budget_seconds,
                          estimated_seconds=round(estimated, 3),
                          speech_rate=config.rate.units_per_second(lang),
                          action=action, rewrites=rewrites),
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
        usage=NarrationUsage(**usage.as_dict()), notes=notes,
    )
