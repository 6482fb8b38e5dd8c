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
from dataclasses import dataclass, replace
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


_LATIN_WORD: Final = f"[A-Za-z0-9{_ranges(_ACCENTED_LATIN)}]+"
_UNITS: Final[Mapping[Counting, re.Pattern[str]]] = MappingProxyType({
    Counting.CHARACTERS: re.compile(f"{HAN_CLASS}|[A-Za-z0-9]+"),
    # A word goes on across an apostrophe or hyphen whatever letter follows, so an elided
    # article is one word with its noun (l'école, l'homme, aujourd'hui).
    Counting.WORDS: re.compile(
        f"{_LATIN_WORD}(?:['’-]{_LATIN_WORD})*|{HAN_CLASS}"),
})


# -- profiles ----------------------------------------------------------------------------------


PLAUSIBLE_RATE_FACTORS: Final = (0.4, 2.0)


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
    # Frequent short words that tell this language from another one written in the same script
    # (`text_language`); a language told apart by its script needs none.
    common_words: frozenset[str] = frozenset()

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

    @property
    def plausible_rates(self) -> tuple[float, float]:
        """The speech rates a request may ask for, in units per second: from a slow, deliberate
        read to a fast one (0.4 to 2 times the default). Outside them a rate is a mistake, such
        as a tempo multiplier sent where a rate belongs."""
        low, high = PLAUSIBLE_RATE_FACTORS
        return round(self.units_per_second * low, 2), round(self.units_per_second * high, 2)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


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
    common_words=_words(
        "the and of to is was are were in that it he she his her they with for on at as but "
        "not this from by have has had be"),
)
FRENCH: Final = LanguageProfile(
    code="fr", name="French", counting=Counting.WORDS, unit_name="words",
    units_per_second=2.6, space_separated=True, full_stop=".",
    sentence_ends=".!?", clause_marks=",;:", list_marks="",
    quotes=(("«", "»"), ("“", "”"), ('"', '"')),
    closing_quotes="»”\"",
    common_words=_words(
        "le la les un une des du de et est sont était il elle ils elles que qui dans pour pas "
        "au aux ce cette se sur avec mais ne son sa ses leur lui"),
)
LANGUAGES: Final[Mapping[str, LanguageProfile]] = MappingProxyType(
    {profile.code: profile for profile in (CHINESE, ENGLISH, FRENCH)})


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

# The script tells Chinese from the rest: hanzi are Chinese. Languages written in Latin letters
# are told apart by their common words; with none of any language's, a text is taken for English.
HAN_LANGUAGE: Final = CHINESE.code
OTHER_LANGUAGE: Final = ENGLISH.code
_WORD: Final = re.compile(f"{_LATIN_WORD}")

# A sentence: text up to its end marks, and the closing quote that may follow them.
def _sentence_pattern(p: LanguageProfile) -> re.Pattern[str]:
    # French sets a space before », so a closing quote that never opens one may follow the
    # sentence's end after a space; one that also opens (") may not: it begins the next.
    openers = {opening for opening, _ in p.quotes}
    sure = "".join(c for c in p.closing_quotes if c not in openers)
    after_space = f"[ \u00a0\u202f]?{char_class(sure)}|" if sure else ""
    return re.compile(f"[^{re.escape(p.sentence_ends)}]+{char_class(p.sentence_ends)}*"
                      f"(?:{after_space}{char_class(p.closing_quotes)})?")


_SENTENCES: Final[Mapping[str, re.Pattern[str]]] = MappingProxyType({
    p.code: _sentence_pattern(p) for p in LANGUAGES.values()})


def speech_units(text: str, lang: str) -> int:
    """How many units of `lang`'s speech rate `text` takes to say."""
    return len(language_profile(lang).unit_pattern.findall(text))


def _common_word_hits(text: str) -> dict[str, int]:
    """How many of each language's common words `text` uses."""
    words = [w.lower() for w in _WORD.findall(text.replace("’", " ").replace("'", " "))]
    return {p.code: sum(w in p.common_words for w in words)
            for p in LANGUAGES.values() if p.common_words}


def text_language(text: str) -> str:
    """'zh' when most of the text's non-space characters are hanzi; otherwise the language whose
    common words the text uses most ('fr' for French), 'en' on a tie or when it uses none."""
    han = len(_HAN.findall(text))
    if han * 2 > len(text.replace(" ", "")):
        return HAN_LANGUAGE
    hits = _common_word_hits(text)
    best = max(hits.values(), default=0)
    winners = [code for code, count in hits.items() if count == best]
    return winners[0] if best and len(winners) == 1 else OTHER_LANGUAGE


def written_in(text: str, lang: str) -> bool:
    """Whether `text` can be `lang`: hanzi for Chinese; for a language in Latin letters, no
    hanzi majority and no more of another language's common words than of its own (a short
    French line may use none of them: "Che Xiaoxiao rit.")."""
    detected = text_language(text)
    if lang == HAN_LANGUAGE or detected == HAN_LANGUAGE:
        return detected == lang
    hits = _common_word_hits(text)
    return hits.get(lang, 0) >= max(hits.values(), default=0)


def split_sentences(text: str, lang: str | None = None) -> list[str]:
    """Sentences with their closing marks (and closing quote) kept, split at `lang`'s sentence
    ends. Without `lang`, a text with any hanzi is split as Chinese (a Chinese sentence may be
    mostly Latin, "iPhone 15发布了。"), any other as English."""
    profile = language_profile(lang or (HAN_LANGUAGE if has_han(text) else OTHER_LANGUAGE))
    parts = _SENTENCES[profile.code].findall(text)
    return [p.strip() for p in parts if p.strip()]


def unquoted(text: str, pairs: Iterable[tuple[str, str]] = ALL_QUOTES) -> str:
    """`text` without the matching quote pairs that wrap all of it, so it can be quoted once.
    Only a pair comes off: in `« Bonjour. » dit-il.` the quote is part of the line."""
    wrapping = frozenset(pairs)
    text = text.strip()
    while len(text) >= 2 and (text[0], text[-1]) in wrapping:
        text = text[1:-1].strip()
    return text


def estimate_tokens(text: str) -> int:
    """A provider-independent estimate of a model's tokens: about one per hanzi, and one per
    four other characters."""
    han = len(_HAN.findall(text))
    return han + (len(text) - han) // 4 + 1


@dataclass(frozen=True)
class SpeechRate:
    """Speech units per second per language: the profile's rate unless overridden. Settings
    override it per language (VSS_ZH_CHARS_PER_SECOND, VSS_EN_WORDS_PER_SECOND,
    VSS_FR_WORDS_PER_SECOND); a request's `speaking_rate` overrides one language's rate for
    that task (`with_rate`)."""

    zh_chars_per_second: float | None = None
    en_words_per_second: float | None = None
    fr_words_per_second: float | None = None

    def units_per_second(self, lang: str) -> float:
        field = _OVERRIDE_FIELDS.get(lang)
        rate: float | None = getattr(self, field) if field else None
        return language_profile(lang).units_per_second if rate is None else rate

    def with_rate(self, lang: str, units_per_second: float) -> SpeechRate:
        """This rate, with `lang` spoken at `units_per_second`."""
        field = _OVERRIDE_FIELDS.get(language_profile(lang).code)
        if field is None:  # a profile added without a field here
            raise ValueError(f"no speech-rate override for {lang!r}")
        return replace(self, **{field: units_per_second})


_OVERRIDE_FIELDS = {CHINESE.code: "zh_chars_per_second", ENGLISH.code: "en_words_per_second",
                    FRENCH.code: "fr_words_per_second"}
