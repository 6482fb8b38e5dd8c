"""GENERATE_NARRATION with the basic offline writer.

One snippet per episode, in storyline order, composed from the scenes' own summaries and
character dynamics, cut at a sentence boundary to the speech budget of the footage it covers.
(The full writer with style, perspective, scope and Gemini is the narration issue's work.)
"""

from __future__ import annotations

import re

from vss.domain.artifacts import NarrationScript, NarrationSnippet, Pacing
from vss.domain.dataset import Scene
from vss.domain.payloads import GenerateNarrationPayload
from vss.engines._io import read_dataset, write_json
from vss.service.stages import StageContext, StageOutput

CHARS_PER_SECOND = {"zh": 4.5}
WORDS_PER_SECOND = {"en": 2.5}
_SENTENCE_END = re.compile(r"(?<=[。！？!?.])\s*")


def speech_seconds(text: str, lang: str) -> float:
    if lang in CHARS_PER_SECOND:
        return len(re.sub(r"\s", "", text)) / CHARS_PER_SECOND[lang]
    return len(text.split()) / WORDS_PER_SECOND.get(lang, 2.5)


def fit_to_budget(sentences: list[str], budget_seconds: float, lang: str) -> tuple[str, str]:
    """The longest prefix of whole sentences that fits; (text, 'fits' | 'cut')."""
    joiner = "" if lang == "zh" else " "
    kept: list[str] = []
    for sentence in sentences:
        if speech_seconds(joiner.join([*kept, sentence]), lang) > budget_seconds and kept:
            return joiner.join(kept), "cut"
        kept.append(sentence)
    return joiner.join(kept), "fits"


def _sentences(scene: Scene) -> list[str]:
    text = scene.narrative_summary or scene.character_dynamics or ""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _episodes(scenes: list[Scene]) -> list[list[Scene]]:
    groups: list[list[Scene]] = []
    for scene in scenes:
        if groups and groups[-1][-1].chapter_id == scene.chapter_id:
            groups[-1].append(scene)
        else:
            groups.append([scene])
    return groups


def run(ctx: StageContext) -> StageOutput:
    payload = GenerateNarrationPayload.model_validate(ctx.task.payload)
    lang = payload.service_params.lang.value
    dataset = read_dataset(ctx.files, payload.blueprint_path)
    snippets = []
    for group in _episodes(dataset.scenes_in_story_order()):
        sentences = [s for scene in group for s in _sentences(scene)]
        budget = sum(scene.duration for scene in group)
        text, action = fit_to_budget(sentences, budget, lang)
        if not text:
            continue
        snippets.append(NarrationSnippet(
            narration=text, source_scene_ids=[s.id for s in group],
            pacing=Pacing(budget_seconds=round(budget, 3),
                          estimated_seconds=round(speech_seconds(text, lang), 3), action=action),
        ))
    script = NarrationScript(
        narration_script=snippets, engine="offline-basic",
        config_snapshot=payload.service_params.model_dump(mode="json"),
    )
    path = write_json(ctx.files, "narration.json", script)
    return StageOutput(
        result={"output_file_path": path, "snippets": len(snippets), "engine": "offline-basic"},
        usage={"llm_tokens": 0, "cost_usd": 0.0},
    )
