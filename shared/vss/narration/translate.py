"""Translating narration snippets with a structured-output model (LOCALIZE_NARRATION).

A glossary comes first: the names and terms of the dataset that the script uses (characters who
speak, the people and roles its captions introduce, organisations), rendered once by the model
and then imposed on every snippet, so that 车小小 is "Che Xiaoxiao" from the first snippet to
the last. Then the snippets, in chunks that fit the prompt budget, each with its budget in the
target language's units. A translation that is not in the target language, or that lacks the
glossary's rendering of a name its source uses, is asked for once more; what is still missing
after that is reported, never filled with the untranslated text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel

from vss.domain.artifacts import GlossaryEntry
from vss.domain.dataset import Dataset
from vss.domain.language import HAN_CLASS, estimate_tokens, language_profile
from vss.narration.llm_writer import LlmWriter, usable_text
from vss.narration.plan import PlannedSnippet
from vss.narration.prompts import render

_INTRO = re.compile(r"^(\S{2,6})\s+(\S{2,20})$")  # a caption presenting "name role"
# The organisation a role belongs to: 海晏集团 in 海晏集团总裁. Only roles are searched: in free
# text the same pattern would take 把她带到了酒店 for a hotel's name.
_ORGANISATION = re.compile(f"^{HAN_CLASS}{{2,4}}?(?:集团|公司|酒店|医院|大学|银行|学校)")


class Glossary(BaseModel):
    entries: list[GlossaryEntry]


class Translated(BaseModel):
    index: int
    narration: str


class Translation(BaseModel):
    items: list[Translated]


def glossary_terms(dataset: Dataset, texts: list[str]) -> list[str]:
    """The dataset's names and terms that occur in `texts`, longest first (a longer term holds
    its own rendering: 车小小妈妈 is not 车小小 + 妈妈 word for word)."""
    speakers = {d.speaker for s in dataset.scenes.values() for d in s.dialogues
                if d.speaker and not re.search(r"[_\d]", d.speaker)}
    found = set(speakers)
    for scene in dataset.scenes.values():
        for caption in scene.captions:
            intro = _INTRO.match(caption.content.strip())
            if intro and intro.group(1) in speakers:  # a character presented with a role
                role = intro.group(2)
                organisation = _ORGANISATION.match(role)
                found |= {intro.group(1), role, *([organisation.group()] if organisation
                                                  else [])}
    return sorted({t for t in found if any(t in text for text in texts)},
                  key=lambda t: (-len(t), t))


def missing_terms(source: str, text: str, glossary: list[GlossaryEntry]) -> list[GlossaryEntry]:
    """Glossary entries `source` uses whose rendering `text` lacks."""
    return [e for e in glossary if e.source in source and e.target.casefold()
            not in text.casefold()]


def term_rule(texts: list[str], glossary: list[GlossaryEntry]) -> str:
    """The prompt line imposing the renderings of the glossary entries `texts` use."""
    entries = [e for e in glossary if any(e.source in t for t in texts)]
    if not entries:
        return ""
    return "- Use exactly these renderings of names and terms wherever they occur:\n" + \
        "\n".join(f"  {e.source} → {e.target}" for e in entries)


@dataclass
class Translator:
    """Translates from `source` to `target` through `writer` (its model and usage count)."""

    writer: LlmWriter
    source: str
    target: str
    title: str
    voice: str  # the master's style rule, kept in translation
    notes: list[str] = field(default_factory=list)

    @property
    def _names(self) -> dict[str, str]:
        return {"source_name": language_profile(self.source).name,
                "target_name": language_profile(self.target).name}

    def _system(self) -> str:
        return render("translate_system", **self._names)

    def glossary(self, terms: list[str]) -> list[GlossaryEntry]:
        """One rendering per term; terms the model left out or left empty are noted."""
        if not terms:
            return []
        prompt = render("glossary", title=self.title, terms="\n".join(f"- {t}" for t in terms),
                        **self._names)
        answer = self.writer.ask(self._system(), prompt, Glossary)
        given = {e.source.strip(): e.target.strip() for e in (answer.entries if answer else [])}
        entries = [GlossaryEntry(source=t, target=given[t]) for t in terms if given.get(t)]
        if len(entries) < len(terms):
            left = [t for t in terms if not given.get(t)]
            self.notes.append(f"no glossary rendering for {left}: translated freely")
        return entries

    def _chunks(self, items: list[tuple[PlannedSnippet, str]]
                ) -> list[list[tuple[PlannedSnippet, str]]]:
        chunks: list[list[tuple[PlannedSnippet, str]]] = [[]]
        used = 0
        for snippet, text in items:
            cost = estimate_tokens(text) + 20
            if chunks[-1] and used + cost > self.writer.budget:
                chunks.append([])
                used = 0
            chunks[-1].append((snippet, text))
            used += cost
        return chunks

    def _ask(self, items: list[tuple[PlannedSnippet, str]], glossary: list[GlossaryEntry],
             previous: str, hint: str = "") -> dict[int, str]:
        unit = language_profile(self.target).unit_name
        prompt = render(
            "translate", title=self.title, style_rule=self.voice, unit_name=unit,
            term_rule=term_rule([t for _, t in items], glossary) + hint,
            previous_rule=f'The previous snippet\'s translation ended: "{previous[-200:]}"'
            if previous else "",
            items="\n".join(f"- index {s.index}, at most {s.budget_units} {unit}: {t}"
                            for s, t in items),
            **self._names)
        answer = self.writer.ask(self._system(), prompt, Translation)
        wanted = {s.index for s, _ in items}
        got = {t.index: usable_text(t.narration, self.target)
               for t in (answer.items if answer else []) if t.index in wanted}
        return {index: text for index, text in got.items() if text}

    def translate(self, items: list[tuple[PlannedSnippet, str]],
                  glossary: list[GlossaryEntry]) -> dict[int, str]:
        """Translations by snippet index; a snippet left out is missing from the answer."""
        done: dict[int, str] = {}
        previous = ""
        for chunk in self._chunks(items):
            got = self._ask(chunk, glossary, previous)
            again = [(s, t) for s, t in chunk
                     if s.index not in got or missing_terms(t, got[s.index], glossary)]
            if again:
                hint = (f"\n- Earlier answers for these snippets were not usable {self.target}"
                        f" text or did not use the renderings above: follow them exactly.")
                got.update(self._ask(again, glossary, previous, hint))
            done.update(got)
            if chunk[-1][0].index in got:
                previous = got[chunk[-1][0].index]
        lacking = sorted(s.index for s, t in items
                         if s.index in done and missing_terms(t, done[s.index], glossary))
        if lacking:
            self.notes.append(f"snippets {lacking} do not use every glossary rendering")
        return done
