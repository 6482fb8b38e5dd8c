"""Terms for the story index, by language: jieba for Chinese, lower-cased words elsewhere.

A language's way of cutting text is one `TokenProfile` in `TOKEN_PROFILES`, beside the
language profiles of `vss.domain.language`. Chinese is cut by jieba in search mode: its
precise cut, plus the dictionary words inside each long word (中华人民共和国 also gives 中华,
人民, 共和国), so a query word finds the longer word that holds it. The dataset's character
names are added to the segmenter's dictionary, so a name is one term and is never cut into
pieces that mean something else (车小小 is not 小小). English and French are lower-cased
runs of letters and digits, split at apostrophes and hyphens (l'école: l, école). Each
language drops a short list of words too common to tell scenes apart.

Cutting is deterministic: the dictionary is jieba's own, read from its wheel (never from a
cache in the temporary directory, never downloaded), names are added in sorted order, and
each `Terms` has its own dictionary, so no dataset's names reach another's terms.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Final

with warnings.catch_warnings():
    # jieba tries pkg_resources first (deprecated in setuptools), then reads its files by path.
    warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
    import jieba

from vss.domain.language import CHINESE, ENGLISH, FRENCH, language_profile
from vss.domain.story_index import TokenizerSpec

__all__ = ["TOKEN_PROFILES", "Segmenter", "Terms", "TokenProfile", "terms_for"]

# jieba logs its dictionary loading at DEBUG on a handler of its own (plain text on stderr).
jieba.setLogLevel(logging.WARNING)


class Segmenter(StrEnum):
    JIEBA_SEARCH = "jieba-search"
    WORDS = "words"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True, slots=True)
class TokenProfile:
    """How one language's text becomes index terms."""

    code: str
    segmenter: Segmenter
    stop_words: frozenset[str]


TOKEN_PROFILES: Final[Mapping[str, TokenProfile]] = MappingProxyType({p.code: p for p in (
    TokenProfile(CHINESE.code, Segmenter.JIEBA_SEARCH, _words(
        "的 地 得 了 着 过 是 在 和 与 及 也 都 就 还 又 很 吗 呢 吧 啊 呀 嘛 哦 嗯 哈 啦 "
        "我 你 您 他 她 它 我们 你们 他们 她们 咱们 这 那 这个 那个 这里 那里 这样 那样 "
        "一个 什么 怎么 把 被 让 给 对 从 向 到 为 说 要 会 能 有 没 去 来 上 下 个 之 而")),
    TokenProfile(ENGLISH.code, Segmenter.WORDS, ENGLISH.common_words | _words(
        "a an i me my we our us you your him them their its it's be been being am do does did "
        "will would can could should shall may might must so if or than then there here what "
        "which who whom when where why how all any each some such no nor only own same too "
        "very just s t d ll m re ve don now up down out over into about again once also off "
        "one")),
    TokenProfile(FRENCH.code, Segmenter.WORDS, FRENCH.common_words | _words(
        "je tu nous vous me te moi toi on y en ou où l d j qu n s c m t à a ai as avons avez "
        "ont été être avoir fait comme plus tout tous très bien si mon ma mes ton ta tes notre "
        "nos votre vos leurs par dont lui ça cela ceci")),
)})

_WORD: Final = re.compile(r"[^\W_]+")  # letters and digits of any script; _ ' - split
_TERM_CHAR: Final = re.compile(r"[^\W_]")  # a jieba piece is a term when it has one


def token_profile(lang: str) -> TokenProfile:
    """The profile of `lang` (UnknownLanguage for a code with no language profile)."""
    return TOKEN_PROFILES[language_profile(lang).code]


@cache
def _jieba_dictionary() -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary and its total frequency, built once per process from the
    dictionary file in jieba's wheel (about half a second)."""
    base = jieba.Tokenizer()
    freq, total = base.gen_pfdict(base.get_dict_file())
    return freq, int(total)


def _jieba_with(names: Iterable[str]) -> jieba.Tokenizer:
    """A jieba tokenizer of its own, on a copy of the base dictionary, with `names` added."""
    freq, total = _jieba_dictionary()
    tokenizer = jieba.Tokenizer()
    # What `Tokenizer.initialize` sets, without its cache file in the temporary directory.
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = dict(freq), total, True
    for name in names:
        tokenizer.add_word(name)
    return tokenizer


class Terms:
    """Cuts text in one language into index terms; build one per dataset (`terms_for`)."""

    def __init__(self, spec: TokenizerSpec) -> None:
        self.spec = spec
        self._stop = frozenset(spec.stop_words)
        self._names = frozenset(spec.user_words)
        self._jieba = (_jieba_with(spec.user_words) if spec.kind == Segmenter.JIEBA_SEARCH.value
                       else None)

    def __call__(self, text: str) -> list[str]:
        """The terms of `text`, in order, repeats kept (BM25 counts them)."""
        pieces = self._search_cut(text) if self._jieba is not None else _WORD.findall(text)
        terms = (piece.strip().lower() for piece in pieces)
        return [t for t in terms if t and t not in self._stop and _TERM_CHAR.search(t)]

    def _search_cut(self, text: str) -> Iterator[str]:
        """jieba's search mode (`Tokenizer.cut_for_search`), except that a name stays whole."""
        assert self._jieba is not None
        freq: dict[str, int] = self._jieba.FREQ
        for word in self._jieba.cut(text, HMM=True):
            if word not in self._names:
                for size in (2, 3):
                    if len(word) > size:
                        yield from (gram for i in range(len(word) - size + 1)
                                    if freq.get(gram := word[i:i + size]))
            yield word


def terms_for(lang: str, names: Iterable[str] = ()) -> Terms:
    """The terms of `lang`, with `names` (character names) kept whole where the segmenter
    cuts words from a dictionary."""
    profile = token_profile(lang)
    jieba_search = profile.segmenter == Segmenter.JIEBA_SEARCH
    user_words = sorted({n.strip() for n in names if n.strip()}) if jieba_search else []
    return Terms(TokenizerSpec(
        lang=profile.code, kind=profile.segmenter.value, user_words=user_words,
        stop_words=sorted(profile.stop_words),
        library=f"jieba {jieba.__version__}" if jieba_search else None))
