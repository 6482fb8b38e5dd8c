"""Who speaks each part of a narration line: the narrator, or a character it quotes.

A quote is a line of dialogue only when the text presents it as speech: a speech cue just
before it (说, 一句, said, asks, a colon) or a quote that is itself a sentence. A quoted nickname
or term (“始祖鸟”) stays in the narrator's voice: switching voices for one word sounds broken.
The speaker of a line is the last known character named before it in the same sentence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from vss.domain.language import ALL_PAUSE_MARKS, ALL_SENTENCE_ENDS, SURE_QUOTES, speech_units

NARRATOR = "narrator"
UNKNOWN = "unknown"  # a quoted line whose speaker the text does not name

# Words that announce a line of dialogue, by language; matched at the end of the text before
# the quote (a colon or comma may follow them).
_CUES = {
    "zh": ("说", "道", "问", "喊", "叫", "答", "骂", "吼", "嚷", "一句", "回应", "表示", "怒斥"),
    "en": ("said", "says", "asks", "asked", "replies", "replied", "shouts", "shouted",
           "whispers", "whispered", "tells", "told", "cries", "cried", "snaps", "snapped"),
    "fr": ("dit", "demande", "demanda", "répond", "répondit", "crie", "cria", "murmure"),
}
_CUE_TAIL = re.compile(r"[\s:：,，]*$")
# A quote this long is a line even without a cue.
_SENTENCE_UNITS = 6


@dataclass(frozen=True)
class Part:
    speaker: str
    text: str


def _quotes(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quoted span, marks included, for the sure quote pairs and
    straight double quotes."""
    pairs = [*SURE_QUOTES, ('"', '"')]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        for opening, closing in pairs:
            if text[i] == opening:
                end = text.find(closing, i + 1)
                if end > i + 1:
                    spans.append((i, end + 1))
                    i = end
                break
        i += 1
    return spans


def _is_speech(before: str, quoted: str, lang: str) -> bool:
    lead = _CUE_TAIL.sub("", before)
    if before != lead and before.rstrip().endswith((":", "：")):
        return True
    if any(lead.lower().endswith(cue) for cue in _CUES.get(lang, ())):
        return True
    inner = quoted[1:-1].strip()
    ends_sentence = bool(inner) and inner[-1] in ALL_SENTENCE_ENDS
    has_clause = any(mark in inner for mark in ALL_PAUSE_MARKS)
    long_enough = speech_units(inner, lang) >= _SENTENCE_UNITS if lang in _CUES else False
    return ends_sentence or (has_clause and long_enough)


def _sentence_start(text: str, end: int) -> int:
    starts = [text.rfind(mark, 0, end) for mark in ALL_SENTENCE_ENDS]
    return max(starts) + 1


def _speaker(before: str, characters: Sequence[str]) -> str:
    """The name ending last before the quote; of names ending together, the longest
    (楚昊轩的爷爷 over 爷爷)."""
    found = [(before.rfind(name) + len(name), len(name), name)
             for name in characters if name and name in before]
    return max(found)[2] if found else UNKNOWN


def split_speakers(text: str, lang: str, characters: Sequence[str] = (),
                   narrator: str = NARRATOR) -> list[Part]:
    """The parts of `text` in order, each with its speaker; quote marks stay with the
    narrator's text around them only when the quote is not speech."""
    parts: list[Part] = []
    cursor = 0
    for start, end in _quotes(text):
        before = text[cursor:start]
        quoted = text[start:end]
        if not _is_speech(text[_sentence_start(text, start):start], quoted, lang):
            continue
        speaker = _speaker(text[_sentence_start(text, start):start], characters)
        if before.strip():
            parts.append(Part(narrator, before.strip()))
        inner = quoted[1:-1].strip()
        if inner:
            parts.append(Part(speaker, inner))
        cursor = end
    rest = text[cursor:].strip()
    if rest:
        parts.append(Part(narrator, rest))
    merged: list[Part] = []
    for part in parts:  # a quote by the narrator themself joins the narration around it
        if merged and merged[-1].speaker == part.speaker:
            joiner = " " if lang != "zh" else ""
            merged[-1] = Part(part.speaker, merged[-1].text + joiner + part.text)
        else:
            merged.append(part)
    return merged or [Part(narrator, text.strip())]
