"""Which scenes a narration covers: `scope` filters them, `character_focus` weights or filters.

Accepted scope values (the edge sends several spellings):
- `full`
- `episode_range`: `[first, last]`, `{"start": a, "end": b}`, `"3-7"` or a single episode number
- `scene_selection`: a list of scene ids, or a string like `"1,2,5-9"`

Ranges are kept as bounds and never expanded, so "1-1000000000" costs no more than "1-3".
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from vss.domain.dataset import Dataset, Scene
from vss.domain.payloads import CharacterFocus, ControlParams, Scope
from vss.errors import PayloadInvalid

SCOPE_POINTER = "/payload/service_params/control_params/scope"
FOCUS_POINTER = "/payload/service_params/control_params/character_focus"
PERSPECTIVE_POINTER = "/payload/service_params/control_params/perspective_character"


def _invalid(pointer: str, reason: str) -> PayloadInvalid:
    return PayloadInvalid(f"Invalid narration {pointer.rsplit('/', 1)[-1]}: {reason}",
                          details={"errors": [{"pointer": pointer, "reason": reason}]})


def _intervals(value: Any) -> list[tuple[int, int]]:
    """Inclusive (low, high) id ranges from a list, a number, or a '1,2,5-9' string."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return [(value, value)]
    if isinstance(value, str):
        found: list[tuple[int, int]] = []
        for part in filter(None, (p.strip() for p in re.split(r"[,，\s]+", value))):
            low, sep, high = part.partition("-")
            bounds = (int(low), int(high)) if sep else (int(low), int(low))
            if bounds[0] > bounds[1]:
                raise ValueError(f"range {part} runs backwards")
            found.append(bounds)
        return found
    if isinstance(value, list):
        return [bounds for item in value for bounds in _intervals(item)]
    raise ValueError("expected a number, a list or a string like '1-3'")


def _episode_bounds(value: Any) -> tuple[int, int]:
    if isinstance(value, dict):
        value = [value.get("start"), value.get("end", value.get("start"))]
    if isinstance(value, list) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value[0], value[1]  # [first, last]: a backwards pair is reported, not reordered
    intervals = _intervals(value)
    if not intervals:
        raise ValueError("empty range")
    return min(low for low, _ in intervals), max(high for _, high in intervals)


def _missing_ids(intervals: list[tuple[int, int]], known: set[int], limit: int = 10) -> list[int]:
    """Up to `limit` ids the intervals name that are not in `known`, in ascending order."""
    missing: set[int] = set()
    for low, high in intervals:
        # Each step meets a known id or records a missing one: at most len(known) + limit steps.
        scene_id = low
        while scene_id <= high and len(missing) < limit:
            if scene_id not in known:
                missing.add(scene_id)
            scene_id += 1
    return sorted(missing)


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
            if not any(first <= c.id <= last for c in dataset.chapters):
                raise ValueError(f"no episode between {first} and {last}")
            chosen = [s for s in story if first <= s.chapter_id <= last]
        else:
            intervals = _intervals(scope.value)
            unknown = _missing_ids(intervals, set(dataset.scenes))
            if unknown:
                raise ValueError(f"unknown scene ids {unknown}")
            chosen = [s for s in story if any(low <= s.id <= high for low, high in intervals)]
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


def check_characters(dataset: Dataset, control: ControlParams) -> None:
    """Every name the narration depends on occurs in the dataset: a misspelt name would
    otherwise change nothing, silently."""
    scenes = list(dataset.scenes.values())
    speakers = Counter(d.speaker for s in scenes for d in s.dialogues if d.speaker)
    hint = f"characters who speak most: {[name for name, _ in speakers.most_common(8)]}"
    errors = []
    if control.perspective == "first_person" and control.perspective_character:
        name = control.perspective_character
        if not any(mentions(s, name) for s in scenes):
            errors.append({"pointer": PERSPECTIVE_POINTER,
                           "reason": f"{name!r} appears in no scene; {hint}"})
    focus = control.character_focus
    if focus.mode != "all":
        for index, name in enumerate(focus.characters):
            if not any(mentions(s, name) for s in scenes):
                errors.append({"pointer": f"{FOCUS_POINTER}/characters/{index}",
                               "reason": f"{name!r} appears in no scene; {hint}"})
    if errors:
        raise PayloadInvalid("The narration names characters the dataset does not have.",
                             details={"errors": errors})


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
