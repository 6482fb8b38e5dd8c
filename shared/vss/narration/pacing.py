"""How long narration takes to speak, and fitting it to the footage it covers.

Chinese is paced in characters per second, English in words per second (DESIGN.md §8). Only
spoken units count: hanzi, and runs of Latin letters or digits (one unit each in Chinese, one
word in English); punctuation and spaces are pauses the rate already includes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_ZH_UNITS = re.compile(rf"[{_HAN}]|[A-Za-z0-9]+")
_EN_WORDS = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+(?:['’-][A-Za-z0-9]+)*|[" + _HAN + "]")
_CLAUSE = re.compile(r"(?<=[，,；;：:、])")
_ZH_END = "。"


@dataclass(frozen=True)
class SpeechRate:
    zh_chars_per_second: float = 4.5
    en_words_per_second: float = 2.5

    def units_per_second(self, lang: str) -> float:
        return self.zh_chars_per_second if lang == "zh" else self.en_words_per_second

    def scaled(self, factor: float) -> SpeechRate:
        """The rate of a voice speaking `factor` times as fast (TTS speaking_rate)."""
        return SpeechRate(self.zh_chars_per_second * factor, self.en_words_per_second * factor)


DEFAULT_RATE = SpeechRate()


def speech_units(text: str, lang: str) -> int:
    pattern = _ZH_UNITS if lang == "zh" else _EN_WORDS
    return len(pattern.findall(text))


def speech_seconds(text: str, lang: str, rate: SpeechRate = DEFAULT_RATE) -> float:
    return speech_units(text, lang) / rate.units_per_second(lang)


def budget_units(seconds: float, lang: str, rate: SpeechRate = DEFAULT_RATE) -> int:
    return int(seconds * rate.units_per_second(lang))


def split_sentences(text: str) -> list[str]:
    """Sentences with their closing punctuation (and closing quote) kept."""
    if re.search(f"[{_HAN}]", text):
        parts = re.findall(r"[^。！？!?…]+[。！？!?…]*[”’\"』」]?", text)
    else:
        parts = re.findall(r"[^.!?]+[.!?]*[\"”’]?", text)
    return [p.strip() for p in parts if p.strip()]


def _close(text: str, lang: str) -> str:
    text = text.rstrip("，,；;：:、 ")
    if not text or text[-1] in "。！？!?….”’\"』」":
        return text
    return text + (_ZH_END if lang == "zh" else ".")


def _hard_cut(text: str, units: int, lang: str) -> str:
    """The first `units` spoken units of `text` (for a single over-long clause)."""
    pattern = _ZH_UNITS if lang == "zh" else _EN_WORDS
    matches = list(pattern.finditer(text))
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
    joiner = "" if lang == "zh" else " "
    kept: list[str] = []
    for sentence in split_sentences(text):
        if speech_units(joiner.join([*kept, sentence]), lang) > limit:
            break
        kept.append(sentence)
    if kept:
        return joiner.join(kept)
    first = split_sentences(text)[0]
    clauses: list[str] = []
    for clause in _CLAUSE.split(first):
        if speech_units("".join([*clauses, clause]), lang) > limit:
            break
        clauses.append(clause)
    if clauses:
        return _close("".join(clauses), lang)
    return _close(_hard_cut(first, limit, lang), lang)
