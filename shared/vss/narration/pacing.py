"""How long narration takes to speak, and fitting it to the footage it covers.

Each language is paced in its own units per second (DESIGN.md §8): Chinese in characters,
English and French in words. What a unit is, and each language's default rate, come from its
profile in `vss.domain.language`.
"""

from __future__ import annotations

import re

from vss.domain.language import (
    ALL_CLOSING_QUOTES,
    ALL_PAUSE_MARKS,
    ALL_SENTENCE_ENDS,
    SpeechRate,
    char_class,
    language_profile,
    speech_units,
    split_sentences,
)

_AFTER_CLAUSE = re.compile(f"(?<={char_class(ALL_PAUSE_MARKS)})")
_CLOSED_BY = ALL_SENTENCE_ENDS + ALL_CLOSING_QUOTES


DEFAULT_RATE = SpeechRate()


def speech_seconds(text: str, lang: str, rate: SpeechRate = DEFAULT_RATE) -> float:
    return speech_units(text, lang) / rate.units_per_second(lang)


def budget_units(seconds: float, lang: str, rate: SpeechRate = DEFAULT_RATE) -> int:
    return int(seconds * rate.units_per_second(lang))


def _close(text: str, lang: str) -> str:
    text = text.rstrip(ALL_PAUSE_MARKS + " ")
    if not text or text[-1] in _CLOSED_BY:
        return text
    return text + language_profile(lang).full_stop


def _hard_cut(text: str, units: int, lang: str) -> str:
    """The first `units` spoken units of `text` (for a single over-long clause)."""
    matches = list(language_profile(lang).unit_pattern.finditer(text))
    if units <= 0 or not matches:
        return ""
    end = matches[min(units, len(matches)) - 1].end()
    return text[:end]


def cut_to_budget(text: str, seconds: float, lang: str, rate: SpeechRate = DEFAULT_RATE) -> str:
    """The longest prefix of whole sentences that fits `seconds`; if even the first sentence
    is too long, whole clauses of it; as a last resort, whole spoken units."""
    limit = budget_units(seconds, lang, rate)
    if speech_units(text, lang) <= limit:
        return text
    joiner = language_profile(lang).joiner
    kept: list[str] = []
    for sentence in split_sentences(text, lang):
        if speech_units(joiner.join([*kept, sentence]), lang) > limit:
            break
        kept.append(sentence)
    if kept:
        return joiner.join(kept)
    first = split_sentences(text, lang)[0]
    clauses: list[str] = []
    for clause in _AFTER_CLAUSE.split(first):
        if speech_units("".join([*clauses, clause]), lang) > limit:
            break
        clauses.append(clause)
    if clauses:
        return _close("".join(clauses), lang)
    return _close(_hard_cut(first, limit, lang), lang)
