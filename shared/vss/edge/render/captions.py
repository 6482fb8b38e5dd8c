"""Burned-in subtitles of the narration: an ASS file built from the timeline's cues.

Each segment's narration is split at sentence ends (and a long sentence at its clauses, then
at a width that fits the frame); each piece is shown for its share of the segment's spoken
time, in proportion to its speech units (characters in Chinese, words in English), which is how
long it takes to say.
"""

from __future__ import annotations

import re

import pysubs2

from vss.domain.language import (
    ALL_CLAUSE_MARKS,
    has_han,
    language_profile,
    speech_units,
    split_sentences,
    text_language,
)
from vss.edge.render.graph import OutputFormat
from vss.edge.render.plan import Timeline

# WenQuanYi Zen Hei has hanzi and Latin; fontconfig falls back to any font when it is missing.
FONT = "WenQuanYi Zen Hei"
_CLAUSE = re.compile(f"(?<=[{re.escape(ALL_CLAUSE_MARKS)}])")


def _max_chars(text: str, width: int, height: int) -> int:
    """Characters that fit on one line at the font size used: about 0.055 x height each for
    hanzi, half that for Latin letters."""
    per_char = 0.055 * height * (1.0 if has_han(text) else 0.5)
    return max(8, int(width * 0.9 / per_char))


def pieces(text: str, limit: int) -> list[str]:
    """The narration cut into lines of at most `limit` characters, at sentence ends first,
    then at clause marks, then at spaces (or anywhere in Chinese)."""
    out: list[str] = []
    for sentence in split_sentences(text) or [text]:
        out += _fit(sentence, limit, clauses=True)
    return [p for p in (x.strip() for x in out) if p]


def _fit(text: str, limit: int, *, clauses: bool) -> list[str]:
    if len(text) <= limit:
        return [text]
    parts = [p for p in _CLAUSE.split(text) if p] if clauses else [text]
    if len(parts) > 1:
        merged: list[str] = []
        for part in parts:
            if merged and len(merged[-1]) + len(part) <= limit:
                merged[-1] += part
            else:
                merged.append(part)
        return [line for part in merged for line in _fit(part, limit, clauses=False)]
    if " " in text.strip():
        lines: list[str] = []
        for word in text.split():
            if lines and len(lines[-1]) + 1 + len(word) <= limit:
                lines[-1] += " " + word
            else:
                lines.append(word)
        return lines
    return [text[i:i + limit] for i in range(0, len(text), limit)]


def subtitles(timeline: Timeline, fmt: OutputFormat) -> str:
    """The ASS document of every cue, sized for the output frame."""
    subs = pysubs2.SSAFile()
    subs.info["PlayResX"] = str(fmt.width)
    subs.info["PlayResY"] = str(fmt.height)
    subs.info["WrapStyle"] = "1"
    subs.styles["Default"] = pysubs2.SSAStyle(
        fontname=FONT, fontsize=round(fmt.height * 0.055), outline=max(1, fmt.height // 240),
        shadow=0, marginv=round(fmt.height * 0.06), primarycolor=pysubs2.Color(255, 255, 255),
        outlinecolor=pysubs2.Color(0, 0, 0), alignment=pysubs2.Alignment.BOTTOM_CENTER)
    for cue in timeline.cues:
        spoken = min(cue.duration, timeline.seconds(cue.frames))
        if spoken <= 0 or not cue.text.strip():
            continue
        lang = language_profile(text_language(cue.text)).code
        lines = pieces(cue.text, _max_chars(cue.text, fmt.width, fmt.height))
        weights = [max(1, speech_units(line, lang)) for line in lines]
        at = timeline.seconds(cue.start)
        total = sum(weights)
        for line, weight in zip(lines, weights, strict=True):
            length = spoken * weight / total
            subs.append(pysubs2.SSAEvent(start=round(at * 1000), end=round((at + length) * 1000),
                                         text=line.replace("\n", " ")))
            at += length
    return subs.to_string("ass")
