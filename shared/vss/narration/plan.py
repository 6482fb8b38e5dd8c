"""The narration plan: which scenes each snippet covers and how long it may speak.

Scenes in scope are grouped into beats (one episode and one narrative function at a time, at
most `max_beat_seconds` of footage), then merged along the story until there are about as many
snippets as the target duration calls for. A snippet's slot is its share of the target,
weighted by footage, by focus characters and by the narrative focus's interest in its scenes,
and never more than its own footage: narration must fit the pictures under it. Its budget is
the slot widened or narrowed by `overflow_tolerance` (-0.15 leaves 15% of it silent, +0.15
lets the narration run 15% over it).
"""

from __future__ import annotations

from dataclasses import dataclass

from vss.domain.dataset import Dataset, NarrativeFunction, Scene
from vss.domain.language import SpeechRate
from vss.narration.pacing import DEFAULT_RATE, budget_units

FOCUS_WEIGHT = 2.0
# A scene the narrative focus cares for fully (relevance 1) weighs this much more.
RELEVANCE_GAIN = 2.0


@dataclass(frozen=True)
class PlannedSnippet:
    index: int
    scene_ids: tuple[int, ...]
    chapter_ids: tuple[int, ...]
    footage_seconds: float
    budget_seconds: float
    budget_units: int
    function: NarrativeFunction
    slot_seconds: float | None = None  # before overflow_tolerance; None: the budget

    @property
    def slot(self) -> float:
        return self.budget_seconds if self.slot_seconds is None else self.slot_seconds


@dataclass(frozen=True)
class NarrationPlan:
    lang: str
    target_seconds: float
    snippets: tuple[PlannedSnippet, ...]

    @property
    def budget_seconds(self) -> float:
        return sum(s.budget_seconds for s in self.snippets)


def _beats(scenes: list[Scene], functions: dict[int, NarrativeFunction],
           max_beat_seconds: float) -> list[list[Scene]]:
    beats: list[list[Scene]] = []
    for scene in scenes:
        if beats:
            last = beats[-1]
            same = (last[-1].chapter_id == scene.chapter_id
                    and functions[last[-1].id] == functions[scene.id])
            if same and sum(s.duration for s in last) + scene.duration <= max_beat_seconds:
                last.append(scene)
                continue
        beats.append([scene])
    return beats


def _merge(beats: list[list[Scene]], count: int, weights: dict[int, float]) -> list[list[Scene]]:
    """Merge neighbouring beats into `count` groups of about equal weight (story order kept)."""
    if count >= len(beats):
        return beats
    total = sum(weights[s.id] for b in beats for s in b)
    groups: list[list[Scene]] = []
    acc = 0.0
    for position, beat in enumerate(beats):
        beat_weight = sum(weights[s.id] for s in beat)
        remaining_beats = len(beats) - position
        remaining_groups = count - len(groups)
        boundary = total * len(groups) / count
        start_new = not groups or (acc >= boundary and remaining_groups > 0)
        if remaining_beats <= remaining_groups:
            start_new = True
        if start_new and len(groups) < count:
            groups.append(list(beat))
        else:
            groups[-1].extend(beat)
        acc += beat_weight
    return groups


def make_plan(
    dataset: Dataset, scenes: list[Scene], *, lang: str, target_seconds: float,
    featured: set[int] | None = None, relevance: dict[int, float] | None = None,
    overflow_tolerance: float = 0.0, rate: SpeechRate = DEFAULT_RATE,
    snippet_seconds: float = 20.0, max_beat_seconds: float = 90.0,
) -> NarrationPlan:
    """`featured`: scenes of focus characters; `relevance`: the narrative focus's interest in
    each scene, 0 to 1 (`vss.narration.focus`)."""
    functions = dataset.story_functions()
    featured = featured or set()
    relevance = relevance or {}
    weights = {s.id: s.duration * (FOCUS_WEIGHT if s.id in featured else 1.0)
               * (1.0 + RELEVANCE_GAIN * relevance.get(s.id, 0.0)) for s in scenes}
    beats = _beats(scenes, functions, max_beat_seconds)
    wanted = max(1, round(target_seconds / snippet_seconds))
    groups = _merge(beats, wanted, weights)
    total_weight = sum(weights.values()) or 1.0
    snippets = []
    for index, group in enumerate(groups):
        footage = sum(s.duration for s in group)
        share = target_seconds * sum(weights[s.id] for s in group) / total_weight
        slot = round(min(footage, share), 3)
        budget = round(slot * (1.0 + overflow_tolerance), 3)
        snippets.append(PlannedSnippet(
            index=index, scene_ids=tuple(s.id for s in group),
            chapter_ids=tuple(dict.fromkeys(s.chapter_id for s in group)),
            footage_seconds=round(footage, 3), budget_seconds=budget,
            budget_units=budget_units(budget, lang, rate),
            function=functions[group[0].id], slot_seconds=slot,
        ))
    return NarrationPlan(lang=lang, target_seconds=target_seconds, snippets=tuple(snippets))
