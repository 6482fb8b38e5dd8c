"""What each scene offers the editor, in frames: its span, its lines of dialogue, where a cut
is clean, and the candidate windows a clip can be taken from.

A cut is *clean* when it falls outside every line of dialogue (or on a line's boundary). Inside
a line, the estimated boundaries between its words (Chinese characters, English words, spread
evenly over the line's time) are the next best place; anywhere else would cut a word.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property, partial
from operator import attrgetter
from typing import NamedTuple

from vss.domain.dataset import Dataset, Scene, SceneContentType
from vss.domain.language import HAN_CLASS
from vss.editing.frames import FrameClock

# How far a dialogue window reaches past its line into silence (lead-in and reaction).
LINE_PADDING_SECONDS = 0.5
MAX_GROUP_LINES = 4


class CutQuality(IntEnum):
    CLEAN = 0  # outside speech, or on a line boundary
    WORD = 1  # an estimated boundary between two words of a line
    MID_WORD = 2


# A spoken unit whatever the language: a hanzi, or a run of Latin letters or digits (a word).
_UNIT = re.compile(f"{HAN_CLASS}|[A-Za-z0-9\u00c0-\u024f]+(?:['’-][A-Za-z0-9]+)*")
_SPOKEN = re.compile(r"\w")  # a line with none of it says nothing
_IN_TIME_ORDER = attrgetter("start", "end")


class Line(NamedTuple):
    """A line of dialogue in frames. (A named tuple, as `Candidate`: a series has hundreds of
    thousands, and a frozen dataclass costs several times as much to build.)"""

    dialogue_index: int  # in the scene's dialogue list (`index` is a tuple's method)
    start: int
    end: int
    text: str
    speaker: str | None

    @property
    def words(self) -> tuple[int, ...]:
        """Estimated word boundaries strictly inside (start, end): the line's spoken units
        spread evenly over its time. Worked out when asked (through the scene's cached
        `word_points`): only a cut that no silence allows needs them."""
        units = max(1, len(_UNIT.findall(self.text)))
        span = self.end - self.start
        return tuple(sorted({self.start + round(i * span / units) for i in range(1, units)}
                            - {self.start, self.end}))


class Candidate(NamedTuple):
    """A window of a scene a clip may be cut from; `core` is what it is about (the line or
    lines), to be kept whole when the clip is trimmed. (A named tuple: a series has tens of
    thousands, and a frozen dataclass costs several times as much to build.)"""

    id: str
    scene_id: int
    chapter_id: int
    start: int
    end: int
    core: tuple[int, int]
    kind: str  # dialogue | dialogue_group | establishing | action | reaction
    lines: tuple[int, ...]  # indexes of the lines inside the core
    # Its episode's place in the dataset: with `start`, the window's place in source order
    # (not a pair of the two: a tuple more per window, of hundreds of thousands).
    chapter_position: int

    @property
    def length(self) -> int:
        return self.end - self.start


# Lines and windows are built from a tuple of their fields, in their named tuple's order, by
# `tuple.__new__`: the very object `Line(...)` or `Candidate(...)` builds, without the Python
# function that a named tuple's constructor is (it takes keywords), which was a tenth of the
# time to prepare a long script. Typed, so that mypy checks each call's fields;
# tests/unit/editing checks that every one has them all.
_new_line: Callable[[tuple[int, int, int, str, str | None]], Line] = partial(tuple.__new__, Line)
_WindowFields = tuple[str, int, int, int, int, tuple[int, int], str, tuple[int, ...], int]
_new_candidate: Callable[[_WindowFields], Candidate] = partial(tuple.__new__, Candidate)


@dataclass(frozen=True)
class SceneMaterial:
    scene: Scene
    chapter_position: int
    start: int  # first frame wholly inside the scene
    end: int  # frame boundary at or before the scene's end
    lines: tuple[Line, ...]
    blocks: tuple[tuple[int, int], ...]  # merged spans of speech, sorted
    candidates: tuple[Candidate, ...] = field(default=())

    @property
    def length(self) -> int:
        return max(0, self.end - self.start)

    @cached_property
    def word_points(self) -> tuple[int, ...]:
        """Every line's word boundaries, line by line."""
        return tuple(w for line in self.lines for w in line.words)

    @cached_property
    def _word_set(self) -> frozenset[int]:
        return frozenset(self.word_points)

    @cached_property
    def _block_ends(self) -> tuple[int, ...]:
        """Where each block ends: sorted like the blocks (they are disjoint), for bisecting."""
        return tuple(end for _, end in self.blocks)

    def _blocks_from(self, position: int) -> int:
        """The index of the first block ending after `position`: the one it may be inside,
        or the next one after it."""
        return bisect_right(self._block_ends, position)

    def cut_positions(self, a: int, b: int, quality: CutQuality) -> list[tuple[int, int]]:
        """Closed intervals of positions in [a, b] where a cut is at least `quality`."""
        if quality >= CutQuality.MID_WORD:
            return [(a, b)]
        allowed: list[tuple[int, int]] = []
        cursor = a
        blocks = self.blocks
        for index in range(self._blocks_from(a), len(blocks)):
            start, end = blocks[index]
            if start >= b:
                break
            if start >= cursor:
                allowed.append((cursor, start))
            cursor = max(cursor, end)
        if cursor <= b:
            allowed.append((cursor, b))
        if quality == CutQuality.WORD:
            points = [w for w in self.word_points if a <= w <= b]
            allowed = _merge(allowed + [(w, w) for w in points])
        return allowed

    def quality_of(self, position: int) -> CutQuality:
        index = self._blocks_from(position)
        if index < len(self.blocks) and self.blocks[index][0] < position:  # inside speech
            if position in self._word_set:
                return CutQuality.WORD
            return CutQuality.MID_WORD
        return CutQuality.CLEAN

    def has_speech(self, start: int, end: int) -> bool:
        """Whether a block of speech overlaps [start, end)."""
        index = self._blocks_from(start)
        return index < len(self.blocks) and self.blocks[index][0] < end


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:  # touching spans keep their shared boundary
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def scene_material(scene: Scene, chapter_position: int, clock: FrameClock,
                   max_frames: int) -> SceneMaterial:
    start = clock.frame_at_or_after(scene.start.ms)
    end = max(start, clock.frame_at_or_before(scene.end.ms))
    lines: list[Line] = []
    for index, dialogue in enumerate(scene.dialogues):
        if dialogue.start is None or dialogue.end is None:
            continue
        # To the nearest frame boundary: lines spoken back to back keep one shared boundary
        # (a clean cut) instead of overlapping by a frame; the error is half a frame at most.
        first = max(start, clock.nearest_frame(dialogue.start.seconds))
        last = min(end, clock.nearest_frame(dialogue.end.seconds))
        if last > first and _SPOKEN.search(dialogue.content):
            lines.append(_new_line((index, first, last, dialogue.content, dialogue.speaker)))
    lines.sort(key=_IN_TIME_ORDER)
    blocks = tuple(_merge([(line.start, line.end) for line in lines]))
    return SceneMaterial(scene, chapter_position, start, end, tuple(lines), blocks,
                         tuple(_candidates(scene, chapter_position, start, end, lines, blocks,
                                           clock.nearest_frame(LINE_PADDING_SECONDS),
                                           max_frames)))


def _candidates(scene: Scene, chapter_position: int, first: int, last: int, lines: list[Line],
                blocks: tuple[tuple[int, int], ...], pad: int, max_frames: int
                ) -> list[Candidate]:
    """The windows of a scene spanning frames [first, last): each line, each run of up to
    MAX_GROUP_LINES lines that fits in a clip, and the silences in clip-long pieces."""
    found: list[Candidate] = []
    add = found.append  # (bound once: a long series has hundreds of thousands of windows)
    scene_id, chapter_id, prefix = scene.id, scene.chapter_id, f"s{scene.id}."
    reach = _reach(lines, first, last, pad)
    indexes = tuple(line.dialogue_index for line in lines)
    for i, line in enumerate(lines):
        low, high = reach[i]
        if high > low:
            add(_new_candidate((f"{prefix}d{line.dialogue_index}", scene_id, chapter_id,
                                low, high, (line.start, line.end), "dialogue",
                                (line.dialogue_index,), chapter_position)))
        for j in range(i + 1, min(len(lines), i + MAX_GROUP_LINES)):
            end_line = lines[j]
            if end_line.end - line.start > max_frames:
                break
            # From where the first line's window starts to where the last line's ends.
            high = reach[j][1]
            if high > low:
                add(_new_candidate((f"{prefix}g{indexes[i]}-{indexes[j]}", scene_id,
                                    chapter_id, low, high, (line.start, end_line.end),
                                    "dialogue_group", indexes[i:j + 1], chapter_position)))
    action = scene.content_type == SceneContentType.ACTION_DRIVEN
    for start, end in _silences(first, last, blocks):
        if start == first:
            kind = "establishing"
        elif action or not lines:
            kind = "action"
        else:
            kind = "reaction"
        # A long stretch is offered in pieces of one clip's length, so a segment can take
        # several moments of it instead of one long shot.
        for piece in range(start, end, max_frames):
            add(_new_candidate((f"{prefix}n{piece}", scene_id, chapter_id, piece,
                                min(end, piece + max_frames), (piece, piece),
                                kind if piece == start else "action", (), chapter_position)))
    return found


def _reach(lines: list[Line], first: int, last: int, pad: int) -> list[tuple[int, int]]:
    """The span each line's window covers: the line and up to `pad` frames of the silence
    on either side, never into the neighbouring lines (a window of several lines reaches
    from its first line's start to its last line's end)."""
    reach: list[tuple[int, int]] = []
    for i, line in enumerate(lines):
        before = lines[i - 1].end if i else first
        after = lines[i + 1].start if i + 1 < len(lines) else last
        reach.append((max(min(before, line.start), line.start - pad),
                      min(max(after, line.end), line.end + pad)))
    return reach


def _silences(first: int, last: int, blocks: tuple[tuple[int, int], ...]
              ) -> list[tuple[int, int]]:
    """The stretches of [first, last) with no dialogue."""
    gaps: list[tuple[int, int]] = []
    cursor = first
    for start, end in blocks:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if last > cursor:
        gaps.append((cursor, last))
    return gaps


def dataset_material(dataset: Dataset, clock: FrameClock, max_frames: int
                     ) -> dict[int, SceneMaterial]:
    """Every scene's material, keyed by scene id."""
    positions = {chapter.id: i for i, chapter in enumerate(dataset.chapters)}
    return {scene_id: scene_material(scene, positions[scene.chapter_id], clock, max_frames)
            for scene_id, scene in dataset.scenes.items()}
