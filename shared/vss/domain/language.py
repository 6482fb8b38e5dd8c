"""Language profiles: how text in each narration language is counted, paced and punctuated.

Whatever depends on a text's language is read from here: what a Han character is, whether
speech is counted in characters or in words, the default speech rate, the marks that end
sentences and clauses, the quote marks, and whether words are written with spaces between
them. A language is one `LanguageProfile` in `LANGUAGES`; the helpers below work for any of them.

Standard library only, no I/O: pacing, both narration writers and subtitle import share it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

# -- scripts -----------------------------------------------------------------------------------

CodePoints = tuple[tuple[int, int], ...]  # inclusive (first, last) ranges

# The one definition of a Han character (hanzi): CJK Unified Ideographs Extension A, the Unified
# Ideographs and the Compatibility Ideographs. The extensions outside the Basic Multilingual
# Plane (B onwards) are rare in modern text and not counted yet: counting them would re-pace
# every text that has one.
HAN_RANGES: Final[CodePoints] = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))

# CJK writing, which puts no space between words: the Han ranges plus CJK radicals, symbols and
# punctuation (、。「」), kana, bopomofo, and the halfwidth/fullwidth forms (，！？). Hangul
# syllables are not in it: Korean puts spaces between words.
CJK_RANGES: Final[CodePoints] = ((0x2E80, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))

# Accented Latin letters (Latin-1 Supplement to Latin Extended-B) are part of a word. The range
# also holds × and ÷, so "3×4" is one word.
_ACCENTED_LATIN: Final[CodePoints] = ((0x00C0, 0x024F),)


def _ranges(ranges: CodePoints) -> str:
    return "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in ranges)


HAN_CLASS: Final = f"[{_ranges(HAN_RANGES)}]"  # a regex character class, for other patterns
CJK_CLASS: Final = f"[{_ranges(CJK_RANGES)}]"
_HAN: Final = re.compile(HAN_CLASS)
_CJK: Final = re.compile(CJK_CLASS)


def char_class(marks: str) -> str:
    """A regex character class matching any one of `marks`."""
    return f"[{re.escape(marks)}]"


def is_han(char: str) -> bool:
    return _HAN.fullmatch(char) is not None


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def is_cjk(char: str) -> bool:
    return _CJK.fullmatch(char) is not None


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


# -- speech units ------------------------------------------------------------------------------


class Counting(StrEnum):
    """What a language's speech rate counts. Only spoken units count: punctuation and spaces
    are pauses the rate already includes."""

    # Each hanzi, and each run of ASCII letters or digits (a brand or a number read out inside
    # Chinese: "iPhone15" is one unit).
    CHARACTERS = "characters"
    # Each word, joined across an apostrophe or hyphen ("don't", "well-known"), and each hanzi
    # (a name left in Chinese characters).
    WORDS = "words"


_UNITS: Final[Mapping[Counting, re.Pattern[str]]] = MappingProxyType({
    Counting.CHARACTERS: re.compile(f"{HAN_CLASS}|[A-Za-z0-9]+"),
    Counting.WORDS: re.compile(
        f"[A-Za-z0-9{_ranges(_ACCENTED_LATIN)}]+(?:['’-][A-Za-z0-9]+)*|{HAN_CLASS}"),
})


# -- profiles ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LanguageProfile:
    """Everything the pipeline knows about writing and speaking one language."""

    code: str  # as payloads and plans name it
    name: str  # as a model's prompt names it
    counting: Counting
    unit_name: str  # what a budget of units is called in a prompt ("120 words")
    units_per_second: float  # default speech rate; Settings may override it
    space_separated: bool  # words are written apart, so sentences are joined with a space
    full_stop: str  # the mark that closes a sentence lacking one
    sentence_ends: str  # marks after which a sentence ends
    clause_marks: str  # marks that end a clause inside a sentence
    list_marks: str  # marks between the items of a list (a pause, but no new clause)
    quotes: tuple[tuple[str, str], ...]  # (opening, closing) pairs
    closing_quotes: str  # marks that may follow a sentence end and still belong to it

    def __post_init__(self) -> None:
        # A new entry is checked when the module loads, not when a narration first needs it.
        closers = {close for _, close in self.quotes}
        if self.units_per_second <= 0:
            raise ValueError(f"{self.code}: units_per_second must be positive")
        if self.full_stop not in self.sentence_ends:
            raise ValueError(f"{self.code}: the full stop must be one of the sentence ends")
        if not set(self.closing_quotes) <= closers:
            raise ValueError(f"{self.code}: every closing quote must close a quote pair")

    @property
    def joiner(self) -> str:
        """What goes between two sentences."""
        return " " if self.space_separated else ""

    @property
    def unit_pattern(self) -> re.Pattern[str]:
        """Matches one spoken unit."""
        return _UNITS[self.counting]


CHINESE: Final = LanguageProfile(
    code="zh", name="Chinese (Mandarin, simplified)", counting=Counting.CHARACTERS,
    unit_name="Chinese characters", units_per_second=4.5, space_separated=False, full_stop="。",
    # Chinese typed on a Western keyboard mixes in ASCII marks; an ellipsis (……) ends a
    # sentence.
    sentence_ends="。！？!?…", clause_marks="，,；;：:", list_marks="、",
    quotes=(("“", "”"), ("‘", "’"), ("「", "」"), ("『", "』"), ('"', '"')),
    closing_quotes="”’\"』」",
)
ENGLISH: Final = LanguageProfile(
    code="en", name="English", counting=Counting.WORDS, unit_name="words",
    units_per_second=2.5, space_separated=True, full_stop=".",
    # An ellipsis does not end an English sentence ("Wait… what?").
    sentence_ends=".!?", clause_marks=",;:", list_marks="",
    quotes=(('"', '"'), ("“", "”"), ("‘", "’"), ("'", "'")),
    # The straight ' is left out: it as often begins an elision ('cause, 'em) as closes a quote.
    closing_quotes="\"”’",
)
LANGUAGES: Final[Mapping[str, LanguageProfile]] = MappingProxyType(
    {profile.code: profile for profile in (CHINESE, ENGLISH)})


class UnknownLanguage(ValueError):
    """A language code with no profile."""

    def __init__(self, code: str) -> None:
        known = ", ".join(sorted(LANGUAGES))
        super().__init__(f"no language profile for {code!r}; known: {known}")
        self.code = code


def language_profile(code: str) -> LanguageProfile:
    try:
        return LANGUAGES[code]
    except KeyError:
        raise UnknownLanguage(code) from None


# -- marks of every language -------------------------------------------------------------------
# A text can mix languages' marks (ASCII punctuation in Chinese, a quote in another language),
# so rules that must recognise any mark (tidying a sentence's end, skipping quoted words) use
# these unions.


def _union(parts: Iterable[str]) -> str:
    return "".join(dict.fromkeys("".join(parts)))


ALL_SENTENCE_ENDS: Final = _union(p.sentence_ends for p in LANGUAGES.values())
ALL_CLAUSE_MARKS: Final = _union(p.clause_marks for p in LANGUAGES.values())
ALL_LIST_MARKS: Final = _union(p.list_marks for p in LANGUAGES.values())
ALL_PAUSE_MARKS: Final = ALL_CLAUSE_MARKS + ALL_LIST_MARKS  # a voice pauses at inside a sentence
ALL_CLOSING_QUOTES: Final = _union(p.closing_quotes for p in LANGUAGES.values())
ALL_QUOTES: Final[tuple[tuple[str, str], ...]] = tuple(
    dict.fromkeys(pair for p in LANGUAGES.values() for pair in p.quotes))
ELLIPSIS: Final = "…"
# Marks that also write apostrophes ("Mara's", "Mara’s"): text between two of them is not
# surely a quote.
APOSTROPHES: Final = "'’"
# Quote pairs that are never apostrophes: what lies between them is surely quoted.
SURE_QUOTES: Final[tuple[tuple[str, str], ...]] = tuple(
    pair for pair in ALL_QUOTES if not set(pair) & set(APOSTROPHES))


# -- helpers -----------------------------------------------------------------------------------

# Only the script tells languages apart: hanzi are Chinese, anything else is taken for English.
# Telling English from French would need a word list, and nothing asks for that yet.
HAN_LANGUAGE: Final = CHINESE.code
OTHER_LANGUAGE: Final = ENGLISH.code

# A sentence: text up to its end marks, and the closing quote that may follow them.
_SENTENCES: Final[Mapping[str, re.Pattern[str]]] = MappingProxyType({
    p.code: re.compile(f"[^{re.escape(p.sentence_ends)}]+{char_class(p.sentence_ends)}*"
                       f"{char_class(p.closing_quotes)}?")
    for p in LANGUAGES.values()})


def speech_units(text: str, lang: str) -> int:
    """How many units of `lang`'s speech rate `text` takes to say."""
    return len(language_profile(lang).unit_pattern.findall(text))


def text_language(text: str) -> str:
    """'zh' when most of the text's non-space characters are hanzi, else 'en'."""
    han = len(_HAN.findall(text))
    return HAN_LANGUAGE if han * 2 > len(text.replace(" ", "")) else OTHER_LANGUAGE


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    """Sentences with their closing marks (and closing quote) kept, split at `lang`'s sentence
    ends. Without `lang`, a text with any hanzi is split as Chinese (a Chinese sentence may be
    mostly Latin, "iPhone 15发布了。"), any other as English."""
    profile = language_profile(lang or (HAN_LANGUAGE if has_han(text) else OTHER_LANGUAGE))
    parts = _SENTENCES[profile.code].findall(text)
    return [p.strip() for p in parts if p.strip()]


def estimate_tokens(text: str) -> int:
    """A provider-independent estimate of a model's tokens: about one per hanzi, and one per
    four other characters."""
    han = len(_HAN.findall(text))
    return han + (len(text) - han) // 4 + 1
