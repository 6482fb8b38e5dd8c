"""The offline writer: deterministic narration composed from the dataset's own words.

It never invents plot: every sentence comes from a scene's summary or character dynamics, a
highlight, a caption, or a line of dialogue, chosen by priority until the snippet's speech
budget is spent, then read out in story order. Style and perspective are followed where a
rule can do it honestly (openers and hooks from a small phrase bank; the perspective
character's name becomes "我"/"I"); free-text custom prompts need the Gemini writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vss.domain.dataset import Dataset, NarrativeFunction, Scene
from vss.domain.payloads import ControlParams
from vss.narration.clean import clean_tts_text
from vss.narration.pacing import speech_units, split_sentences
from vss.narration.plan import NarrationPlan, PlannedSnippet

_TIME_MARK = re.compile(r"^[\w\s]{0,8}(?:前|后|以前|之后|ago|later|earlier)$", re.IGNORECASE)
_INTRO = re.compile(r"^(\S{2,6})\s+(\S{2,20})$")

OPENERS = {
    "humorous": {"zh": ["好家伙，", "没想到，", "谁能想到，"],
                 "en": ["Of course, ", "Naturally, "]},
    "suspense": {"zh": ["就在这时，", "然而，"], "en": ["Just then, ", "But "]},
}
HOOKS = {
    "suspense": {"zh": "接下来会发生什么？", "en": "What happens next?"},
    "humorous": {"zh": "这下可热闹了。", "en": "Things are about to get messy."},
}
FLASHBACK = {"zh": "时间回到之前，", "en": "Earlier, "}
FOCUS_PRIORITY = {  # narrative_focus → (summary, highlight, dialogue) weights
    "plot": (3.0, 1.5, 1.0), "emotion": (2.0, 3.0, 2.5), "character": (3.0, 2.0, 2.5),
    "suspense": (2.5, 3.0, 1.5),
}
_DEFAULT_PRIORITY = (3.0, 2.0, 1.5)


@dataclass(frozen=True)
class _Candidate:
    scene_order: int
    slot: int  # position inside a scene: intro, summary, highlight, dialogue
    priority: float
    text: str


def _sentence(text: str, lang: str) -> str:
    text = clean_tts_text(text).rstrip("，,；; ")
    if text and text[-1] not in "。！？!?…”’\"":
        text += "。" if lang == "zh" else "."
    return text


def _dialogue(scene: Scene, params: ControlParams, lang: str) -> str | None:
    lines = [d for d in scene.dialogues if d.content.strip()]
    focus = set(params.character_focus.characters)
    preferred = [d for d in lines if d.speaker in focus] or lines
    if not preferred:
        return None
    line = max(preferred, key=lambda d: len(d.content))
    content = _sentence(line.content, lang)
    if not content:
        return None
    if lang == "zh":
        return f"{line.speaker}说：“{content}”" if line.speaker else f"“{content}”"
    return f'{line.speaker} says, "{content}"' if line.speaker else f'"{content}"'


def _candidates(scenes: list[Scene], params: ControlParams, lang: str,
                introduced: set[str]) -> list[_Candidate]:
    w_summary, w_highlight, w_dialogue = FOCUS_PRIORITY.get(
        params.narrative_focus, _DEFAULT_PRIORITY)
    found: list[_Candidate] = []
    for order, scene in enumerate(scenes):
        for caption in scene.captions:
            intro = _INTRO.match(caption.content.strip())
            if intro and intro.group(1) not in introduced and lang == "zh":
                introduced.add(intro.group(1))
                found.append(_Candidate(order, 0, 2.5, f"{intro.group(1)}，{intro.group(2)}。"))
        summary = scene.narrative_summary or scene.character_dynamics or ""
        for rank, sentence in enumerate(split_sentences(summary)):
            found.append(_Candidate(order, 1, w_summary / (1 + rank), _sentence(sentence, lang)))
        for highlight in scene.highlights:
            found.append(_Candidate(order, 2, w_highlight, _sentence(highlight, lang)))
        line = _dialogue(scene, params, lang)
        if line:
            found.append(_Candidate(order, 3, w_dialogue, line))
    return [c for c in found if c.text]


def _time_marker(scenes: list[Scene]) -> str | None:
    for caption in scenes[0].captions:
        text = caption.content.strip()
        if _TIME_MARK.match(text):
            return text
    return None


def _first_person(text: str, character: str | None, lang: str) -> str:
    if not character:
        return text
    if lang == "zh":
        return text.replace(character, "我")
    return re.sub(rf"\b{re.escape(character)}\b", "I", text)


def _compose(snippet: PlannedSnippet, scenes: list[Scene], params: ControlParams, lang: str,
             introduced: set[str]) -> str:
    joiner = "" if lang == "zh" else " "
    opener = ""
    if snippet.function == NarrativeFunction.FLASHBACK:
        marker = _time_marker(scenes)
        opener = f"{marker}，" if marker and lang == "zh" else FLASHBACK[lang]
    elif params.style in OPENERS and snippet.index % 3 == 1:
        bank = OPENERS[params.style][lang]
        opener = bank[snippet.index % len(bank)]
    chosen: list[_Candidate] = []
    used = speech_units(opener, lang)
    ranked = sorted(_candidates(scenes, params, lang, introduced),
                    key=lambda c: (-c.priority, c.scene_order, c.slot))
    for candidate in ranked:
        cost = speech_units(candidate.text, lang)
        if used + cost <= snippet.budget_units:
            chosen.append(candidate)
            used += cost
    chosen.sort(key=lambda c: (c.scene_order, c.slot, -c.priority))
    text = joiner.join(c.text for c in chosen)
    hook = HOOKS.get(params.style, {}).get(lang)
    if hook and used + speech_units(hook, lang) <= snippet.budget_units and snippet.index % 4 == 3:
        text = joiner.join(filter(None, [text, hook]))
    if opener and text:
        text = opener + (text[0].lower() + text[1:] if lang == "en" and opener[-1] == " "
                         and not text.startswith("I ") else text)
    if params.perspective == "first_person":
        text = _first_person(text, params.perspective_character, lang)
    return text


def write_offline(dataset: Dataset, plan: NarrationPlan, params: ControlParams) -> list[str]:
    """One narration text per planned snippet (empty when its scenes offer nothing to say)."""
    introduced: set[str] = set()
    return [
        _compose(snippet, [dataset.scenes[i] for i in snippet.scene_ids], params, plan.lang,
                 introduced)
        for snippet in plan.snippets
    ]
