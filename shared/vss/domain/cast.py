"""Who is in the dataset and where: its speakers, and the scenes each character appears in.

A character appears in a scene when they speak in it, or when its captions, highlights,
summary or dynamics name them. Names are found longest first and without overlap, so a scene
about "车小小妈妈" is not also a scene about "车小小", nor one about "Tomas" about "Tom".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from vss.domain.dataset import Dataset, Scene
from vss.errors import PayloadInvalid

CHARACTERS_POINTER = "/payload/service_params/characters_to_analyze"
_WORD_CHAR = re.compile(r"\w", re.ASCII)


def speakers(dataset: Dataset) -> list[str]:
    """The dataset's characters: everyone who speaks, most lines first (then in order of
    their first line)."""
    counts = Counter(d.speaker for s in footage_order(dataset) for d in s.dialogues
                     if d.speaker and d.speaker.strip())
    return [name for name, _ in counts.most_common()]


def named_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Matches any of `names`, the longest at each position; a name starting or ending with
    a Latin letter or digit only as a whole word."""
    alternatives = [_bounded(n) for n in sorted(set(names), key=lambda n: (-len(n), n)) if n]
    return re.compile("|".join(alternatives)) if alternatives else None


def _bounded(name: str) -> str:
    before = r"(?<![A-Za-z0-9])" if _WORD_CHAR.match(name[0]) else ""
    after = r"(?![A-Za-z0-9])" if _WORD_CHAR.match(name[-1]) else ""
    return f"{before}{re.escape(name)}{after}"


def described_texts(scene: Scene) -> list[str]:
    """The texts of a scene that describe it rather than say it."""
    texts = [scene.narrative_summary, scene.character_dynamics, *scene.highlights,
             *(c.content for c in scene.captions)]
    return [t for t in texts if t]


def appearances(dataset: Dataset, names: Iterable[str]) -> dict[str, set[int]]:
    """For each of `names`, the ids of the scenes they appear in. Names are told apart from
    each other, so pass every character's (`speakers` and any more)."""
    wanted = list(dict.fromkeys(names))
    found: dict[str, set[int]] = {name: set() for name in wanted}
    pattern = named_pattern(wanted)
    for scene in dataset.scenes.values():
        for line in scene.dialogues:
            if line.speaker in found:
                found[line.speaker].add(scene.id)
        if pattern is None:
            continue
        for text in described_texts(scene):
            for match in pattern.finditer(text):
                found[match.group(0)].add(scene.id)
    return found


def cast_of(dataset: Dataset, names: Sequence[str]) -> list[str]:
    """The characters to analyse: `names` (stripped, each once), or every speaker when there
    are none. PayloadInvalid when a name is empty or appears in no scene, pointing at it in
    the payload and listing the dataset's characters."""
    roster = speakers(dataset)
    if not names:
        return roster
    seen = appearances(dataset, [*roster, *(n.strip() for n in names)])
    errors, unknown = [], []
    for index, raw in enumerate(names):
        name = raw.strip()
        if not name:
            reason = "empty name"
        elif not seen.get(name):
            reason = f"{name!r} appears in no scene (neither speaks nor is named)"
            unknown.append(name)
        else:
            continue
        errors.append({"pointer": f"{CHARACTERS_POINTER}/{index}", "reason": reason})
    if errors:
        raise PayloadInvalid(
            "The analysis names characters the dataset does not have"
            + (f": {', '.join(unknown)}." if unknown else " (an empty name)."),
            details={"errors": errors, "characters": roster})
    return list(dict.fromkeys(n.strip() for n in names))


def footage_order(dataset: Dataset) -> list[Scene]:
    """Scenes as the episodes' footage runs: by episode, then start time."""
    return sorted(dataset.scenes.values(), key=lambda s: (s.chapter_id, s.start, s.id))
