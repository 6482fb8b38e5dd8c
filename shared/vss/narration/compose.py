"""GENERATE_NARRATION's core: dataset + control parameters → a paced narration script.

scope → character focus → plan (budgets) → writer (Gemini, or the offline writer when no
model is configured) → pacing (≤ N rewrite requests, then a cut at a sentence boundary).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vss.domain.artifacts import NarrationScript, NarrationSnippet, NarrationUsage, Pacing
from vss.domain.dataset import Dataset
from vss.domain.payloads import NarrationServiceParams
from vss.errors import PayloadInvalid
from vss.narration.llm import StructuredLlm, Usage
from vss.narration.llm_writer import LlmWriter, Written
from vss.narration.offline import write_offline
from vss.narration.pacing import SpeechRate, cut_to_budget, speech_seconds
from vss.narration.plan import NarrationPlan, PlannedSnippet, make_plan
from vss.narration.prompts import PROMPT_VERSION
from vss.narration.scope import apply_focus, check_characters, select_scenes

OFFLINE = "offline"


@dataclass(frozen=True)
class NarrationConfig:
    rate: SpeechRate = field(default_factory=SpeechRate)
    prompt_budget_tokens: int = 24_000
    max_rewrites: int = 2
    snippet_seconds: float = 20.0


def dataset_language(dataset: Dataset) -> str:
    """'zh' when the dataset's own text is mostly Chinese, else 'en'."""
    sample = "".join((s.character_dynamics or s.narrative_summary or "")
                     + "".join(d.content for d in s.dialogues[:3])
                     for s in list(dataset.scenes.values())[:50])
    han = sum(1 for ch in sample if "\u3400" <= ch <= "\u9fff")
    return "zh" if han * 2 > len(sample.replace(" ", "")) else "en"


def plan_for(dataset: Dataset, params: NarrationServiceParams, config: NarrationConfig
             ) -> NarrationPlan:
    control = params.control_params
    check_characters(dataset, control)
    scenes, featured = apply_focus(select_scenes(dataset, control.scope),
                                   control.character_focus)
    return make_plan(dataset, scenes, lang=params.lang.value,
                     target_seconds=control.target_duration_minutes * 60, featured=featured,
                     rate=config.rate, snippet_seconds=config.snippet_seconds)


def _offline(dataset: Dataset, plan: NarrationPlan, params: NarrationServiceParams):
    def write(snippets: list[PlannedSnippet]) -> list[str]:
        sub = NarrationPlan(plan.lang, plan.target_seconds, tuple(snippets))
        return write_offline(dataset, sub, params.control_params)
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
    plan = plan_for(dataset, params, config)
    offline = _offline(dataset, plan, params)
    notes: list[str] = []
    usage = Usage()
    writer: LlmWriter | None = None
    if llm is None:
        notes.append("offline writer: no Gemini credentials are configured")
        if params.control_params.custom_prompts:
            notes.append("custom_prompts are followed only by the Gemini writer")
        if dataset_language(dataset) != plan.lang:
            notes.append(f"the offline writer cannot translate: the narration keeps the "
                         f"dataset's language, not {plan.lang}")
        written = {s.index: Written(t, list(s.scene_ids), OFFLINE)
                   for s, t in zip(plan.snippets, offline(list(plan.snippets)), strict=True)}
    else:
        writer = LlmWriter(llm, prompt_budget_tokens=config.prompt_budget_tokens)
        result = writer.write(dataset, plan, params.control_params, offline)
        written, notes = result.written, notes + result.notes
    fitted = _fit(plan, written, writer, params, config)
    if writer is not None:
        usage = writer.usage

    lang = plan.lang
    snippets = []
    for planned in plan.snippets:
        text, rewrites = fitted[planned.index]
        estimated = speech_seconds(text, lang, config.rate)
        action = "rewritten" if rewrites else "fits"
        if estimated > planned.budget_seconds:
            text, action = cut_to_budget(text, planned.budget_seconds, lang, config.rate), "cut"
            estimated = speech_seconds(text, lang, config.rate)
        if not text:
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
