"""A stand-in translator for LOCALIZE_NARRATION tests: answers the glossary, translation and
rewrite prompts the way a model would, from what the prompts themselves say."""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import BaseModel

from tests.support.fakes import model_call
from vss.domain.artifacts import GlossaryEntry
from vss.narration.llm_writer import Rewrite, Rewrites
from vss.narration.translate import Glossary, Translated, Translation
from vss.ports import LlmResult

ITEM = re.compile(r"^- index (\d+), at most (\d+) \w+: (.*)$", re.MULTILINE)
TERM = re.compile(r"^- (\S+)$", re.MULTILINE)
RENDERING = re.compile(r"^  (\S+) → (.+)$", re.MULTILINE)
FILLER = ("the", "story", "moves", "on", "and", "nobody", "sees", "what", "comes", "next")


def rendering(term: str) -> str:
    """A stable English stand-in for a Chinese term: one made-up word, a letter per hanzi
    (a voice reads it as one word, as it would a romanised name)."""
    word = "".join("bdfghklmnprstvz"[ord(c) % 15] + "aeiou"[ord(c) // 15 % 5] for c in term)
    return word.capitalize()


def english(units: int, names: list[str]) -> str:
    """About `units` English words: the names first, then filler."""
    words = list(names)
    while len(words) < max(units, 3):
        words.append(FILLER[len(words) % len(FILLER)])
    text = " ".join(words[:max(units, len(names), 3)])
    return text[0].upper() + text[1:] + "."


def item_units(prompt: str) -> list[tuple[int, int, str]]:
    """(index, budget units, text) of every item a translate or rewrite prompt lists."""
    return [(int(i), int(u), text) for i, u, text in ITEM.findall(prompt)]


def glossary_answer(prompt: str) -> Glossary:
    return Glossary(entries=[GlossaryEntry(source=t, target=rendering(t))
                             for t in TERM.findall(prompt)])


def translation_answer(prompt: str, length: Callable[[int], float]) -> Translation:
    """Each item in English, `length(index)` times its budget long, using every rendering the
    prompt imposes on the terms its source text holds."""
    imposed = dict(RENDERING.findall(prompt))
    items = []
    for index, units, text in item_units(prompt):
        names = [target for source, target in imposed.items() if source in text]
        items.append(Translated(index=index, narration=english(round(units * length(index)),
                                                                names)))
    return Translation(items=items)


def rewrite_answer(prompt: str) -> Rewrites:
    imposed = dict(RENDERING.findall(prompt))
    return Rewrites(items=[
        Rewrite(index=i, narration=english(units - 2, [t for s, t in imposed.items()
                                                       if s in text or t in text][:1]))
        for i, units, text in item_units(prompt)])


def translator(length: Callable[[int], float] = lambda index: 0.8
               ) -> Callable[[str, str, type], LlmResult]:
    """A `respond` for ScriptedLlm that translates every prompt of the localisation stage."""
    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        answer: BaseModel
        if schema is Glossary:
            answer = glossary_answer(prompt)
        elif schema is Translation:
            answer = translation_answer(prompt, length)
        elif schema is Rewrites:
            answer = rewrite_answer(prompt)
        else:
            raise AssertionError(f"unexpected schema {schema.__name__}")
        return LlmResult(answer, answer.model_dump_json(), model_call(500, 100, 0.001))
    return respond
