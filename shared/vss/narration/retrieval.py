"""What a narration takes from its asset's story index: the scenes retrieved for its focus
(they weigh more in the plan and are marked in the model's excerpts) and the facts known about
its characters (the model is told them, so introductions agree with them and nothing it writes
contradicts them). Without an index a narration is written as before."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from vss.domain.character_facts import CharacterFact
from vss.narration.focus import FocusLens

# The best retrieved scene counts as fully relevant to the focus, the last as half.
TOP_RELEVANCE, LAST_RELEVANCE = 1.0, 0.5
FACTS_PER_CHARACTER = 8
CHARACTERS_WITH_FACTS = 6


@dataclass(frozen=True)
class Retrieved:
    query: str
    scene_ids: tuple[int, ...]  # best first
    facts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # name -> "attr: value"
    index_kind: str = "bm25"  # what answered the query
    fallback: str | None = None  # why the index's own kind did not


def retrieved_facts(facts: Mapping[str, list[CharacterFact]], names: list[str],
                    scene_ids: tuple[int, ...]) -> dict[str, tuple[str, ...]]:
    """The facts the writer is told: about `names` (the narration's own characters), else
    about the characters with the most facts in the retrieved scenes; each fact once."""
    chosen = [n for n in names if facts.get(n)]
    if not chosen:
        wanted = set(scene_ids)
        counts = {n: sum(f.scene_id in wanted for f in found) for n, found in facts.items()}
        chosen = sorted((n for n, c in counts.items() if c), key=lambda n: (-counts[n], n))
    told: dict[str, tuple[str, ...]] = {}
    for name in chosen[:CHARACTERS_WITH_FACTS]:
        lines = dict.fromkeys(f"{f.attribute}: {f.value}" for f in facts[name])
        told[name] = tuple(list(lines)[:FACTS_PER_CHARACTER])
    return told


def weighted(lens: FocusLens, retrieved: Retrieved) -> FocusLens:
    """The lens with the retrieved scenes at least as relevant as their rank makes them."""
    relevance = dict(lens.relevance)
    count = len(retrieved.scene_ids)
    for rank, scene_id in enumerate(retrieved.scene_ids):
        share = rank / (count - 1) if count > 1 else 0.0
        floor = TOP_RELEVANCE - (TOP_RELEVANCE - LAST_RELEVANCE) * share
        relevance[scene_id] = max(relevance.get(scene_id, 0.0), round(floor, 3))
    return replace(lens, relevance=relevance)


def facts_rule(retrieved: Retrieved | None) -> str:
    """The facts as an instruction for the model ('' when there are none)."""
    if retrieved is None or not retrieved.facts:
        return ""
    known = "; ".join(f"{name}: {', '.join(lines)}" for name, lines in retrieved.facts.items())
    return ("Known facts about the characters (introduce them consistently with these and "
            f"never contradict them): {known}")
