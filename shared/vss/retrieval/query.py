"""The query a narration request implies, for the story index.

It is read the way the narration reads the request (`vss.narration.focus`), in the dataset's
language: the characters the request follows (its character focus, unless ``all``, its
perspective character, and the cast its focus implies: the couple of a romance, the
protagonist of a story of growth), the focus's words and moods, and the custom prompts'
text. The characters the request names count three times: a query term counts as often as it
occurs (`StoryIndex.search`), and a character's scenes should outrank scenes that merely hold
some of the focus's two dozen words, as three of them give a scene the focus's full keyword
share in the narration (`vss.narration.focus`). A focus word of a language written with spaces
is a stem ("betray" also means "betrayed"): it becomes the dataset's words that begin with it,
as the narration matches it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from itertools import islice

from vss.domain.dataset import Dataset
from vss.domain.language import language_profile
from vss.domain.payloads import NarrationServiceParams
from vss.narration.focus import RULES, read_focus, scene_text
from vss.narration.language import dataset_language

__all__ = ["NAME_WEIGHT", "narration_query"]

NAME_WEIGHT = 3  # times a character the request names occurs in its query

_WORD = re.compile(r"[^\W_]+")


def narration_query(params: NarrationServiceParams, dataset: Dataset) -> str:
    """Names first, then the focus's words and moods, then the custom prompts, each once
    except the names the request gives (`NAME_WEIGHT`); "" when the request implies nothing
    (a general focus on every character, without prompts)."""
    control = params.control_params
    lang = dataset_language(dataset)
    lens = read_focus(dataset, control, lang)
    chosen = control.character_focus.characters if control.character_focus.mode != "all" \
        else []
    named = list(dict.fromkeys(
        n.strip() for n in (*chosen, control.perspective_character) if n and n.strip()))
    words: list[str] = []
    rule = RULES.get(control.narrative_focus)
    if rule is not None:  # custom focus: its prompt below says it better than its word grams
        words = [*_focus_words(rule.keywords.get(lang, ()), dataset, lang),
                 *(mood.value for mood in sorted(rule.moods))]
    prompts = control.custom_prompts
    said = (prompts.narrative_focus, prompts.style) if prompts else ()
    others = dict.fromkeys(p.strip() for p in (*lens.cast, *words, *said) if p and p.strip())
    return " ".join([*(name for name in named for _ in range(NAME_WEIGHT)),
                     *(p for p in others if p not in named)])


def _focus_words(keywords: Iterable[str], dataset: Dataset, lang: str) -> list[str]:
    """`keywords` as query words: as they are in a language without spaces between words,
    else each stem as the dataset's words that begin with it (the stem itself when none)."""
    keywords = list(keywords)
    if not language_profile(lang).space_separated:
        return keywords
    vocabulary = sorted({w.lower() for s in dataset.scenes.values()
                         for w in _WORD.findall(scene_text(s))})
    found: list[str] = []
    for keyword in keywords:
        stem = keyword.lower()
        if _WORD.fullmatch(stem) is None:  # "turns out", "rendez-vous": its words as they are
            found.append(keyword)
            continue
        words = []
        for word in islice(vocabulary, bisect_left(vocabulary, stem), None):
            if not word.startswith(stem):
                break
            words.append(word)
        found += words or [stem]
    return found

