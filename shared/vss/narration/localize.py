"""LOCALIZE_NARRATION's core: a finished narration script, in another language, fitted to the
same footage.

Each snippet keeps its slot (the speech time its footage offers: the master's `slot_seconds`,
else its budget, else, for a script without pacing, the duration of its source scenes in the
dataset); its budget in the target language is the slot times (1 + `overflow_tolerance`) at
the target's speech rate (`speaking_rate`, else the configured rate). The model translates
with a glossary built from the dataset (`vss.narration.translate`), snippets over budget are
sent back for a shorter version like narration's (`vss.narration.fit`), then cut at a sentence
boundary. `source_scene_ids` and narrative functions are kept.

Translation needs a model: without one the stage fails with LlmError naming what to
configure, rather than hand back the master's text as if it were translated. A script asked
for in its own language is only re-paced (by the model's rewrites when there is one, else by
cuts).
"""

from __future__ import annotations

from vss.domain.artifacts import (
    GlossaryEntry,
    NarrationScript,
    NarrationSnippet,
    NarrationUsage,
)
from vss.domain.dataset import Dataset, NarrativeFunction
from vss.domain.language import SpeechRate
from vss.domain.payloads import ControlParams, LocalizationServiceParams
from vss.domain.usage import Usage
from vss.errors import LlmError, PayloadInvalid
from vss.handler_config import NarrationConfig
from vss.narration.fit import Rewriter, fit
from vss.narration.llm_writer import LlmWriter, style_rule
from vss.narration.pacing import budget_units
from vss.narration.plan import NarrationPlan, PlannedSnippet
from vss.narration.prompts import PROMPT_VERSION
from vss.narration.translate import Translator, glossary_terms, term_rule
from vss.ports import StructuredLlm

UNCHANGED = "unchanged"
NEEDS_MODEL = ("LOCALIZE_NARRATION translates with Gemini, and no Gemini credentials are "
               "configured: set VSS_GEMINI_API_KEY (or VSS_GEMINI_VERTEX_PROJECT, for Vertex AI "
               "with the worker's service account) on the stage worker. The offline writer "
               "cannot translate.")


def _invalid(pointer: str, reason: str) -> PayloadInvalid:
    return PayloadInvalid(f"Cannot localise the master script: {reason}",
                          details={"errors": [{"pointer": pointer, "reason": reason}]})


def slots(master: NarrationScript, dataset: Dataset, lang: str, overflow_tolerance: float,
          rate: SpeechRate) -> NarrationPlan:
    """The master's snippets as a plan in `lang`: the same scenes and slots, budgets in
    `lang`'s units."""
    planned = []
    for index, snippet in enumerate(master.narration_script):
        unknown = [i for i in snippet.source_scene_ids if i not in dataset.scenes]
        if unknown:
            raise _invalid(f"/narration_script/{index}/source_scene_ids",
                           f"scenes {unknown} are not in the dataset")
        scenes = [dataset.scenes[i] for i in snippet.source_scene_ids]
        footage = sum(s.duration for s in scenes)
        pacing = snippet.pacing
        if pacing is not None:
            footage = pacing.footage_seconds
            slot = pacing.slot_seconds if pacing.slot_seconds is not None \
                else pacing.budget_seconds
        else:
            slot = footage
        budget = round(slot * (1.0 + overflow_tolerance), 3)
        planned.append(PlannedSnippet(
            index=index, scene_ids=tuple(snippet.source_scene_ids),
            chapter_ids=tuple(dict.fromkeys(s.chapter_id for s in scenes)),
            footage_seconds=round(footage, 3), budget_seconds=budget,
            budget_units=budget_units(budget, lang, rate),
            function=NarrativeFunction.parse(snippet.narrative_function or "LINEAR"),
            slot_seconds=round(slot, 3)))
    target = master.target_duration_seconds or sum(p.slot for p in planned)
    return NarrationPlan(lang, target, tuple(planned))


def _master_voice(master: NarrationScript) -> str:
    """The style rule of the master's style, when its snapshot names one."""
    control = master.config_snapshot.get("control_params")
    if not isinstance(control, dict) or "style" not in control:
        return "Keep the original's voice."
    try:
        return style_rule(ControlParams.model_validate(control))
    except ValueError:  # a snapshot of another version: its style is not ours to read
        return "Keep the original's voice."


def localize(master: NarrationScript, dataset: Dataset, params: LocalizationServiceParams,
             llm: StructuredLlm | None, config: NarrationConfig | None = None) -> NarrationScript:
    config = config or NarrationConfig()
    source, target = params.lang.value, params.target_lang.value
    if master.lang is not None and master.lang != source:
        raise _invalid("/payload/service_params/lang",
                       f"the master script is in {master.lang!r}, not {source!r}")
    if llm is None and source != target:
        raise LlmError(NEEDS_MODEL, details={"source_lang": source, "target_lang": target,
                                             "configure": ["VSS_GEMINI_API_KEY",
                                                           "VSS_GEMINI_VERTEX_PROJECT"]})
    rate = config.rate if params.speaking_rate is None else \
        config.rate.with_rate(target, params.speaking_rate)
    plan = slots(master, dataset, target, params.overflow_tolerance, rate)
    originals = {s.index: master.narration_script[s.index].narration for s in plan.snippets}
    voice = _master_voice(master)
    writer = LlmWriter(llm, prompt_budget_tokens=config.prompt_budget_tokens) if llm else None
    notes: list[str] = []
    glossary: list[GlossaryEntry] = []
    if writer is None:
        texts = dict(originals)
        notes.append(f"already in {target}: re-paced only, by cuts (no model is configured "
                     f"for rewrites)")
    elif source == target:
        texts = dict(originals)
        notes.append(f"already in {target}: re-paced only")
    else:
        translator = Translator(writer, source, target, dataset.title, voice)
        glossary = translator.glossary(glossary_terms(dataset, list(originals.values())))
        texts = translator.translate([(s, originals[s.index]) for s in plan.snippets], glossary)
        notes += translator.notes
    rewrite: Rewriter | None = None
    if writer is not None:
        def rewrite(late: list[tuple[PlannedSnippet, str]]) -> dict[int, str]:
            terms = term_rule([originals[s.index] for s, _ in late], glossary)
            return writer.rewrite(late, target, voice, terms)

    fitted = fit(plan, texts, rewrite, rate, config.max_rewrites)
    translated = source != target
    snippets = []
    silent = []
    for planned in plan.snippets:
        done = fitted.get(planned.index)
        if done is None or not done.text:
            silent.append(planned.index)
            continue
        original = master.narration_script[planned.index]
        changed_by_model = llm is not None and (translated or done.action == "rewritten")
        snippets.append(NarrationSnippet(
            narration=done.text, source_scene_ids=original.source_scene_ids,
            narrative_function=original.narrative_function,
            engine=llm.name if llm and changed_by_model else original.engine or UNCHANGED,
            source_narration=original.narration if translated else None,
            pacing=done.pacing(planned, rate.units_per_second(target)),
        ))
    if silent:
        notes.append(f"no {target} narration for snippets {silent}: their footage plays "
                     f"without narration")
    if not snippets:
        raise LlmError(f"The model gave no usable {target} narration.",
                       details={"model": getattr(llm, "model", None), "target_lang": target})
    usage = writer.usage if writer else Usage()
    return NarrationScript(
        narration_script=snippets, config_snapshot=params.model_dump(mode="json"),
        engine=llm.name if llm else UNCHANGED, lang=target, source_lang=source,
        prompt_version=PROMPT_VERSION if llm else None,
        target_duration_seconds=plan.target_seconds,
        estimated_duration_seconds=round(sum(s.pacing.estimated_seconds for s in snippets
                                             if s.pacing), 3),
        usage=NarrationUsage.model_validate(usage.model_dump()), notes=notes,
        glossary=glossary or None,
    )
