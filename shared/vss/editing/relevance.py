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
from collections.abc import Iterable
from dataclasses import dataclass

from vss.domain.dataset import Dataset
from vss.domain.language import HAN_CLASS
from vss.editing.frames import FrameClock
from vss.editing.material import Candidate, SceneMaterial

_HAN_RUN = re.compile(f"{HAN_CLASS}+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]{2,}")
_STOP = frozenset({
    "the", "and", "for", "with", "that", "this", "from", "into", "was", "were", "are", "his",
    "her", "him", "she", "they", "them", "their", "has", "have", "had", "but", "not", "you",
    "your", "our", "who", "what", "when", "where", "then", "than", "there", "here", "about",
    "after", "before", "over", "under"})

WEIGHTS = {"lines": 0.45, "speaker": 0.2, "captions": 0.15, "scene": 0.2}
# Which kind wins a tie: a line or an exchange shows what is said; a reaction or an
# establishing shot is the fallback.
KIND_PRIOR = {"dialogue": 0.03, "dialogue_group": 0.02, "action": 0.01, "reaction": 0.01,
              "establishing": 0.0}


def keywords(text: str) -> frozenset[str]:
    words: set[str] = set()
    for run in _HAN_RUN.findall(text):
        words.update(run[i:i + 2] for i in range(len(run) - 1))
        if len(run) == 1:
            words.add(run)
    words.update(w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP)
    return frozenset(words)


_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Features:
    # One set per line, shared by every window holding the line: a union per window would
    # hold most of the memory on long series.
    lines: tuple[frozenset[str], ...]
    speakers: frozenset[str]
    captions: frozenset[str]
    scene: frozenset[str]


@dataclass(frozen=True, slots=True)
class Scored:
    candidate: Candidate
    score: float
    matches: tuple[str, ...]  # what it shares with the narration, for the clip's reason


class Relevance:
    """Keyword features of every candidate, computed once per dataset."""

    def __init__(self, dataset: Dataset, material: dict[int, SceneMaterial],
                 clock: FrameClock) -> None:
        self.names = sorted({d.speaker.strip() for s in dataset.scenes.values()
                             for d in s.dialogues if d.speaker and len(d.speaker.strip()) > 1},
                            key=lambda name: (-len(name), name))
        self.features: dict[str, Features] = {}
        for item in material.values():
            scene = item.scene
            context = keywords(" ".join(filter(None, [
                scene.narrative_summary, scene.character_dynamics, scene.location,
                *scene.highlights])))
            by_index = dict(enumerate(scene.dialogues))
            said = {line.index: keywords(line.text) for line in item.lines}
            for candidate in item.candidates:
                spoken = tuple(said[i] for i in candidate.lines)
                speakers = frozenset(filter(None, (by_index[i].speaker for i in candidate.lines)))
                captions = [c.content for c in scene.captions
                            if clock.frame_at_or_before(c.start.ms) < candidate.end
                            and clock.frame_at_or_after(c.end.ms) > candidate.start]
                self.features[candidate.id] = Features(
                    spoken, speakers, keywords(" ".join(captions)) if captions else _NONE,
                    context)

    def named(self, narration: str) -> frozenset[str]:
        return frozenset(name for name in self.names if name in narration)

    def rank(self, narration: str, candidates: Iterable[Candidate]) -> list[Scored]:
        """The candidates, most relevant first."""
        words = keywords(narration)
        names = self.named(narration)
        raw: list[tuple[float, Candidate, tuple[str, ...]]] = []
        for candidate in candidates:
            f = self.features[candidate.id]
            lines = f.lines[0] if len(f.lines) == 1 else frozenset().union(*f.lines)
            shared_lines = words & lines
            shared_captions = words & f.captions
            shared_scene = words & f.scene
            speaker = names & f.speakers
            value = (WEIGHTS["lines"] * _share(shared_lines, lines)
                     + WEIGHTS["speaker"] * (1.0 if speaker else 0.0)
                     + WEIGHTS["captions"] * _share(shared_captions, f.captions)
                     + WEIGHTS["scene"] * _share(shared_scene, f.scene)
                     + KIND_PRIOR.get(candidate.kind, 0.0))
            matches = tuple(sorted(speaker)) + tuple(sorted(shared_lines | shared_captions))
            raw.append((value, candidate, matches[:6]))
        top = max((value for value, _, _ in raw), default=0.0) or 1.0
        raw.sort(key=lambda item: (-item[0], item[1].position, item[1].id))
        return [Scored(candidate, round(value / top, 4), matches)
                for value, candidate, matches in raw]


def _share(shared: frozenset[str], have: frozenset[str]) -> float:
    """Shared keywords, damped so a long line does not win on length alone."""
    if not shared:
        return 0.0
    return min(1.0, len(shared) / math.sqrt(max(1, len(have))))

