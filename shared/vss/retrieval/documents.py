"""One retrieval document per scene: what the dataset says about it, and who is in it.

A scene's text is its summary and dynamics, its lines (``speaker: text``), captions,
highlights, location and mood, then the facts recorded about characters in that scene, one
per line, with no labels (a label would be a term of every document). The facts are the
seed's ``identified_facts_by_character``: a fact belongs to the scene it was found in
(its ``scene_id``), where its character is present; facts about scenes the dataset does not
have are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from vss.domain.character_facts import CharacterFact, CharacterFacts
from vss.domain.dataset import Dataset, Mood, Scene
from vss.domain.pointers import validated
from vss.domain.story_index import SceneDocument
from vss.errors import PayloadInvalid
from vss.narration.scope import mentions

__all__ = ["CharacterFactsLike", "cast", "parse_facts", "scene_documents"]

CharacterFactsLike: TypeAlias = Mapping[str, Sequence[Mapping[str, Any]]] | CharacterFacts

# The key the seed's facts file keeps them under; the whole file is accepted too.
_FACTS_KEY = "identified_facts_by_character"
_EXTRA = re.compile(r"[_\d]")  # 路人_1: an unnamed extra, not a character


def parse_facts(facts: CharacterFactsLike | None) -> dict[str, list[CharacterFact]]:
    """Facts by character name; PayloadInvalid with a pointer per malformed entry."""
    if facts is None:
        return {}
    if isinstance(facts, CharacterFacts):
        return facts.root
    raw: Any = facts.get(_FACTS_KEY, facts)
    return validated(CharacterFacts, raw, PayloadInvalid, "invalid character facts").root


def cast(dataset: Dataset, facts: Mapping[str, list[CharacterFact]] | None = None) -> list[str]:
    """The dataset's characters: who speaks (most lines first; unnamed extras such as 路人_1
    left out), then who has facts and never speaks, by name."""
    lines = Counter(d.speaker.strip() for s in dataset.scenes.values() for d in s.dialogues
                    if d.speaker and d.speaker.strip())
    speakers = sorted((n for n in lines if not _EXTRA.search(n)), key=lambda n: (-lines[n], n))
    silent = sorted(n.strip() for n in facts or {} if n.strip() and n.strip() not in lines)
    return speakers + silent


def scene_documents(dataset: Dataset, facts: CharacterFactsLike | None = None
                    ) -> list[SceneDocument]:
    """One document per scene of `dataset`, in story order."""
    by_character = parse_facts(facts)
    names = cast(dataset, by_character)
    by_scene: dict[int, list[tuple[str, CharacterFact]]] = {}
    for name, found in by_character.items():
        for fact in found:
            by_scene.setdefault(fact.scene_id, []).append((name.strip(), fact))
    return [_document(scene, names, by_scene.get(scene.id, []))
            for scene in dataset.scenes_in_story_order()]


def _document(scene: Scene, names: list[str], facts: list[tuple[str, CharacterFact]]
              ) -> SceneDocument:
    with_facts = {name for name, _ in facts}
    present = [n for n in names if n in with_facts or mentions(scene, n)
               or any(d.speaker and d.speaker.strip() == n for d in scene.dialogues)]
    lines = [
        scene.narrative_summary,
        scene.character_dynamics,
        *(f"{d.speaker.strip()}: {d.content}" if d.speaker and d.speaker.strip() else d.content
          for d in scene.dialogues),
        *(c.content for c in scene.captions),
        *scene.highlights,
        scene.location,
        scene.mood.value if scene.mood is not Mood.UNKNOWN else None,
        # The seed records a fact again for each sentence it is read from: once is enough.
        *dict.fromkeys(f"{name} {fact.attribute}: {fact.value}" for name, fact in facts),
    ]
    return SceneDocument(
        scene_id=scene.id, episode=scene.chapter_id,
        text="\n".join(line.strip() for line in lines if line and line.strip()),
        characters=present)


def passage(text: str, terms: Sequence[str], width: int) -> str:
    """What of a found scene's document to show: its lines that hold one of the matched
    `terms` (all of it when none does, as for a search by embeddings), cut at `width`."""
    wanted = [term.casefold() for term in terms if term.strip()]
    lines = [line for line in text.split("\n")
             if any(term in line.casefold() for term in wanted)]
    return ("\n".join(lines) if lines else text)[:width]
