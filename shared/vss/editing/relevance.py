"""How relevant each candidate window is to what the narration says, without a model.

A narration segment and a candidate are compared as bags of keywords (pairs of adjacent hanzi
for Chinese, lower-cased words of three letters or more otherwise) and of character names (the
dataset's speakers). A candidate scores for the words its own lines share with the narration,
for a speaker the narration names, for the captions on screen during it, and for its scene's
summary, dynamics, highlights and location. Scores are normalised to [0, 1] per segment; ties
keep the source order, so the ranking is deterministic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from vss.domain.dataset import Dataset
from vss.domain.language import HAN_CLASS
from vss.editing.frames import FrameClock
from vss.editing.material import Candidate, SceneMaterial

# The hanzi keywords in one pass of the regex engine: at each hanzi, the pair it starts (pairs
# overlap) or, alone between non-hanzi, the hanzi itself; the group is what is found. (A Python
# loop over each run's pairs cost half as much again; a second pass for the lone hanzi, an
# eighth more.)
_HAN_KEYWORD = re.compile(
    f"(?=({HAN_CLASS}{HAN_CLASS}|(?<!{HAN_CLASS}){HAN_CLASS}(?!{HAN_CLASS}))){HAN_CLASS}")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]{2,}")
_STOP = frozenset({
    "the", "and", "for", "with", "that", "this", "from", "into", "was", "were", "are", "his",
    "her", "him", "she", "they", "them", "their", "has", "have", "had", "but", "not", "you",
    "your", "our", "who", "what", "when", "where", "then", "than", "there", "here", "about",
    "after", "before", "over", "under"})

WEIGHTS = {"lines": 0.45, "speaker": 0.2, "captions": 0.15, "scene": 0.2}
_LINES_WEIGHT, _SPEAKER_WEIGHT = WEIGHTS["lines"], WEIGHTS["speaker"]
_CAPTIONS_WEIGHT = WEIGHTS["captions"]
# Which kind wins a tie: a line or an exchange shows what is said; a reaction or an
# establishing shot is the fallback.
KIND_PRIOR = {"dialogue": 0.03, "dialogue_group": 0.02, "action": 0.01, "reaction": 0.01,
              "establishing": 0.0}


def keywords(text: str) -> frozenset[str]:
    found: list[str] = _HAN_KEYWORD.findall(text)
    latin = _WORD.findall(text)
    if latin:
        found += [word for word in map(str.lower, latin) if word not in _STOP]
    return frozenset(found)


_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _SceneWords:
    """A scene's keywords, worked out when one of its candidates is ranked. Kept per line,
    not per window: a window is scored from the lines it holds, and a set per
    window would hold most of the memory on long series."""

    context: frozenset[str]  # summary, dynamics, highlights, location
    said: dict[int, frozenset[str]]  # by line index
    speakers: dict[int, str | None]  # by line index, as the dialogue names them
    captions: dict[str, frozenset[str]]  # by candidate id: the captions on screen during it


class Scored(NamedTuple):
    candidate: Candidate
    score: float
    # What it shares with the narration: the speakers it names, the words.
    named: frozenset[str] = frozenset()
    shared: frozenset[str] = frozenset()

    @property
    def matches(self) -> tuple[str, ...]:
        """For the clip's reason: worked out for the few windows that become clips."""
        return (*sorted(self.named), *sorted(self.shared))[:6]


# Ranked windows are built from a tuple of their fields by `tuple.__new__`, as windows are
# (`vss.editing.material._new_candidate`): the very object `Scored(...)` builds, without the
# Python function of a named tuple's constructor; a ranking builds one per window.
_new_scored: Callable[[tuple[Candidate, float, frozenset[str], frozenset[str]]], Scored] = \
    partial(tuple.__new__, Scored)


# Scenes whose keywords are kept: a script cites the scenes of its story in turn (and extends
# into their neighbours), so the last few hundred serve nearly every ranking; keeping every
# scene's held a third of the memory of a long series.
SCENES_KEPT = 512


class Relevance:
    """Keyword features of the dataset's scenes, computed when a scene is first ranked; the
    last SCENES_KEPT scenes worked out are kept."""

    def __init__(self, dataset: Dataset, material: dict[int, SceneMaterial],
                 clock: FrameClock) -> None:
        # Each distinct speaker once: a series has a handful, named on every line.
        speakers = {d.speaker for s in dataset.scenes.values() for d in s.dialogues}
        self.names = sorted({name.strip() for name in speakers
                             if name and len(name.strip()) > 1},
                            key=lambda name: (-len(name), name))
        self._material = material
        self._clock = clock
        self._kept: dict[int, _SceneWords] = {}  # oldest first

    def named(self, narration: str) -> frozenset[str]:
        return frozenset(name for name in self.names if name in narration)

    def _words(self, scene_id: int) -> _SceneWords:
        found = self._kept.get(scene_id)
        if found is None:
            found = self._kept[scene_id] = self._scene_words(self._material[scene_id])
            if len(self._kept) > SCENES_KEPT:
                del self._kept[next(iter(self._kept))]
        return found

    def _scene_words(self, item: SceneMaterial) -> _SceneWords:
        scene, clock = item.scene, self._clock
        context = keywords(" ".join(filter(None, [
            scene.narrative_summary, scene.character_dynamics, scene.location,
            *scene.highlights])))
        captions: dict[str, frozenset[str]] = {}
        for candidate in item.candidates if scene.captions else ():
            shown = [c.content for c in scene.captions
                     if clock.frame_at_or_before(c.start.ms) < candidate.end
                     and clock.frame_at_or_after(c.end.ms) > candidate.start]
            if shown:
                captions[candidate.id] = keywords(" ".join(shown))
        return _SceneWords(context,
                           {line.dialogue_index: keywords(line.text) for line in item.lines},
                           {line.dialogue_index: scene.dialogues[line.dialogue_index].speaker
                            for line in item.lines}, captions)

    def rank(self, narration: str, candidates: Iterable[Candidate]) -> list[Scored]:
        """The candidates, most relevant first."""
        words = keywords(narration)
        # Each speaker the narration names, as the set a window that hears them shares.
        named = {name: frozenset((name,)) for name in self.named(narration)}
        views: dict[int, _SceneView] = {}
        # (-score, chapter position, start, id: the order wanted, compared by the sort
        # itself), ...
        raw: list[tuple[float, int, int, str, Candidate, frozenset[str], frozenset[str]]] = []
        for candidate in candidates:
            view = views.get(candidate.scene_id)
            if view is None:
                view = views[candidate.scene_id] = _SceneView.of(
                    self._words(candidate.scene_id), words, named)
            held = candidate.lines
            if not held:
                shared_lines = speaker = lines = _NONE
            elif len(held) == 1:
                shared_lines, speaker = view.shared[held[0]], view.named[held[0]]
                lines = view.words.said[held[0]]
            else:
                shared_lines = _union(view.shared, held)
                speaker = _union(view.named, held)
                # The lines' keywords together matter only when some are shared.
                lines = _union(view.words.said, held) if shared_lines else _NONE
            captions = view.words.captions.get(candidate.id, _NONE)
            shared_captions = words & captions if captions else _NONE
            # The terms in a fixed order (float addition is not associative); a term with
            # nothing shared is 0.0, skipped with the call that would work it out.
            value = _LINES_WEIGHT * _share(shared_lines, lines) if shared_lines else 0.0
            if speaker:
                value += _SPEAKER_WEIGHT
            if shared_captions:
                value += _CAPTIONS_WEIGHT * _share(shared_captions, captions)
            value += view.scene_term
            value += KIND_PRIOR.get(candidate.kind, 0.0)
            shared = shared_lines | shared_captions if shared_captions else shared_lines
            raw.append((-value, candidate.chapter_position, candidate.start, candidate.id,
                        candidate, speaker, shared))
        raw.sort()
        top = -raw[0][0] if raw and raw[0][0] else 1.0
        # Windows of a scene often score alike (its silences, its lines by one speaker), and
        # sorted they come together: each score is normalised once, as rounding a float to
        # 4 places costs more than building the Scored.
        ranked: list[Scored] = []
        last: float | None = None
        score = 0.0
        for negative, _, _, _, candidate, speaker, shared in raw:
            if negative != last:
                last, score = negative, round(-negative / top, 4)
            ranked.append(_new_scored((candidate, score, speaker, shared)))
        return ranked


@dataclass(frozen=True, slots=True)
class _SceneView:
    """What one narration shares with one scene: its context's term of the score, and the
    keywords and speakers it shares with each line (the same for every window holding it)."""

    words: _SceneWords
    scene_term: float
    shared: dict[int, frozenset[str]]  # by line index
    named: dict[int, frozenset[str]]  # by line index: the speaker, if the narration names them

    @classmethod
    def of(cls, scene: _SceneWords, words: frozenset[str], named: dict[str, frozenset[str]]
           ) -> _SceneView:
        return cls(scene, WEIGHTS["scene"] * _share(words & scene.context, scene.context),
                   {index: words & said or _NONE for index, said in scene.said.items()},
                   {index: named.get(speaker or "", _NONE)
                    for index, speaker in scene.speakers.items()})


def _union(by_line: dict[int, frozenset[str]], held: tuple[int, ...]) -> frozenset[str]:
    """What the lines of a window of several have together. Nothing is the one empty set
    (ranked windows keep what they share). A loop: a window holds a few lines, and
    unpacking them into `frozenset().union` cost three times as much."""
    together = _NONE
    for index in held:
        if by_line[index]:
            together = together | by_line[index]
    return together


def _share(shared: frozenset[str], have: frozenset[str]) -> float:
    """Shared keywords, damped so a long line does not win on length alone."""
    if not shared:
        return 0.0
    return min(1.0, len(shared) / math.sqrt(max(1, len(have))))

