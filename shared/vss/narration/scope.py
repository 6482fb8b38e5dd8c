"""Which scenes a narration covers: `scope` filters them, `character_focus` weights or filters.

Accepted scope values (the edge sends several spellings):
- `full`
- `episode_range`: `[first, last]`, `{"start": a, "end": b}`, `"3-7"` or a single episode number
- `scene_selection`: a list of scene ids, or a string like `"1,2,5-9"`
"""

from __future__ import annotations

import re
from typing import Any

from vss.domain.dataset import Dataset, Scene
from vss.domain.payloads import CharacterFocus, Scope
from vss.errors import PayloadInvalid

SCOPE_POINTER = "/payload/service_params/control_params/scope"
FOCUS_POINTER = "/payload/service_params/control_params/character_focus"


def _invalid(pointer: str, reason: str) -> PayloadInvalid:
    return PayloadInvalid(f"Invalid narration {pointer.rsplit('/', 1)[-1]}: {reason}",
                          details={"errors": [{"pointer": pointer, "reason": reason}]})


def _ids(value: Any) -> list[int]:
    """Integers from a list, a number, or a '1,2,5-9' string."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        found: list[int] = []
        for part in filter(None, (p.strip() for p in re.split(r"[,，\s]+", value))):
            low, sep, high = part.partition("-")
            found.extend(range(int(low), int(high) + 1) if sep else [int(low)])
        return found
    if isinstance(value, list):
        return [i for item in value for i in _ids(item)]
    raise ValueError("expected a number, a list or a string like '1-3'")


def _episode_bounds(value: Any) -> tuple[int, int]:
    if isinstance(value, dict):
        value = [value.get("start"), value.get("end", value.get("start"))]
    ids = _ids(value)
    if not ids:
        raise ValueError("empty range")
    return (ids[0], ids[-1]) if isinstance(value, list) and len(ids) == 2 else (min(ids), max(ids))


def select_scenes(dataset: Dataset, scope: Scope) -> list[Scene]:
    """The scenes in scope, in story order; PayloadInvalid naming the scope when it is wrong."""
    story = dataset.scenes_in_story_order()
    if scope.type == "full":
        return story
    try:
        if scope.type == "episode_range":
            first, last = _episode_bounds(scope.value)
            if first > last:
                raise ValueError(f"range {first}-{last} runs backwards")
            chapters = {c.id for c in dataset.chapters}
            if not chapters & set(range(first, last + 1)):
                raise ValueError(f"no episode between {first} and {last}")
            chosen = [s for s in story if first <= s.chapter_id <= last]
        else:
            wanted = _ids(scope.value)
            unknown = sorted(set(wanted) - set(dataset.scenes))
            if unknown:
                raise ValueError(f"unknown scene ids {unknown}")
            chosen = [s for s in story if s.id in set(wanted)]
    except (ValueError, TypeError) as exc:
        raise _invalid(SCOPE_POINTER, str(exc)) from None
    if not chosen:
        raise _invalid(SCOPE_POINTER, "the scope selects no scene")
    return chosen


def mentions(scene: Scene, name: str) -> bool:
    """Whether a character speaks in or is named by the scene."""
    if any(d.speaker == name for d in scene.dialogues):
        return True
    texts = [scene.character_dynamics, scene.narrative_summary, *scene.highlights,
             *(c.content for c in scene.captions)]
    return any(name in t for t in texts if t)


def apply_focus(scenes: list[Scene], focus: CharacterFocus) -> tuple[list[Scene], set[int]]:
    """(scenes kept, ids of scenes featuring a focus character).

    Modes: `all` ignores the characters; `focus` keeps every scene and weights the ones that
    feature them; `only` keeps just those scenes.
    """
    if focus.mode == "all" or not focus.characters:
        return scenes, set()
    featured = {s.id for s in scenes if any(mentions(s, c) for c in focus.characters)}
    if focus.mode == "only":
        kept = [s for s in scenes if s.id in featured]
        if not kept:
            raise _invalid(FOCUS_POINTER, f"no scene in scope features {focus.characters}")
        return kept, featured
    if focus.mode != "focus":
        raise _invalid(FOCUS_POINTER, f"unknown mode {focus.mode!r} (all, focus, only)")
    return scenes, featured
