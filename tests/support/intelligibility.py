"""How much of a sentence a speech recogniser got back: error rates of a transcript against the
text that was spoken, for judging how intelligible a voice is (tests/bench/voices.py).

Both texts are normalised the same way first (NFKC, so full-width and half-width forms are one;
case folded; punctuation and symbols dropped; Chinese in simplified characters) so that only
what was heard counts, not how the recogniser chose to write it. The character error rate (CER)
is the edit distance between the two character sequences over the reference's length. For
Chinese the characters are also read as pinyin syllables: a homophone the recogniser wrote with
other characters (相亲 heard as 乡亲, 她 as 他) is the voice said right, so the syllable error
rate (tones kept) and the toneless one (a tone heard wrong forgiven too) measure the voice where
the CER also measures the recogniser's spelling.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from opencc import OpenCC
from pypinyin import Style, lazy_pinyin

# The CJK ideographs (the unified block and extension A): what is read as pinyin.
_HANZI = r"\u3400-\u4dbf\u4e00-\u9fff"
_HANZI_RUN = re.compile(f"[{_HANZI}]+")
# Whisper writes Mandarin in traditional characters now and then: a script, not a sound.
_SIMPLIFIED = OpenCC("t2s")
# Spaces beside a hanzi are layout (a recogniser puts them between phrases), not speech.
_SPACE_BY_HANZI = re.compile(f"(?<=[{_HANZI}])\\s+|\\s+(?=[{_HANZI}])")


@dataclass(frozen=True)
class Tally:
    """Edits against reference units, summed over sentences: the rate of a set of sentences
    is its total edits over its total length, so a long sentence weighs more than a short."""

    edits: int = 0
    units: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.edits + other.edits, self.units + other.units)

    @property
    def rate(self) -> float:
        return self.edits / self.units if self.units else 0.0


def normalise(text: str, lang: str) -> str:
    """`text` as compared: NFKC, case folded, punctuation and symbols as spaces (so `peut-être`
    and `peut être`, `l'homme` and `l’homme` are alike), single spaces; in Chinese simplified
    characters and no space next to a hanzi."""
    if lang == "zh":
        text = _SIMPLIFIED.convert(text)
    folded = unicodedata.normalize("NFKC", text).casefold()
    plain = "".join(" " if unicodedata.category(c)[0] in "PS" else c for c in folded)
    spaced = " ".join(plain.split())
    return _SPACE_BY_HANZI.sub("", spaced) if lang == "zh" else spaced


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance: substitutions, insertions and deletions, each costing one."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def characters(text: str, lang: str) -> list[str]:
    return list(normalise(text, lang))


def syllables(text: str, *, tones: bool) -> list[str]:
    """Chinese text as pinyin syllables (`xiang1`, neutral tone `le5`; toneless `xiang`); a
    word in another script between them is one unit."""
    style = Style.TONE3 if tones else Style.NORMAL
    units: list[str] = []
    cursor = 0
    text = normalise(text, "zh")
    for run in _HANZI_RUN.finditer(text):
        units.extend(text[cursor:run.start()].split())
        units.extend(lazy_pinyin(run.group(), style=style, neutral_tone_with_five=True))
        cursor = run.end()
    units.extend(text[cursor:].split())
    return units


def tally(reference: Sequence[str], hypothesis: Sequence[str]) -> Tally:
    return Tally(edit_distance(reference, hypothesis), len(reference))


def character_tally(reference: str, hypothesis: str, lang: str) -> Tally:
    return tally(characters(reference, lang), characters(hypothesis, lang))


def syllable_tally(reference: str, hypothesis: str, *, tones: bool) -> Tally:
    return tally(syllables(reference, tones=tones), syllables(hypothesis, tones=tones))
