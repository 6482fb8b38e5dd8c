"""Source ranges already on the timeline, per episode, so no range is used twice."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence


class UsedRanges:
    """Disjoint, sorted [start, end) frame ranges per chapter (one chapter = one media file)."""

    def __init__(self) -> None:
        self._ranges: dict[int, list[tuple[int, int]]] = {}

    def add(self, chapter_id: int, start: int, end: int) -> None:
        if end <= start:
            return
        ranges = self._ranges.setdefault(chapter_id, [])
        index = bisect_left(ranges, (start, end))
        if index > 0 and ranges[index - 1][1] >= start:
            index -= 1
            start, end = ranges[index][0], max(end, ranges[index][1])
            del ranges[index]
        while index < len(ranges) and ranges[index][0] <= end:
            end = max(end, ranges[index][1])
            del ranges[index]
        ranges.insert(index, (start, end))

    def overlap(self, chapter_id: int, start: int, end: int) -> int:
        """Frames of [start, end) already used."""
        return sum(max(0, min(end, high) - max(start, low))
                   for low, high in self._near(chapter_id, start, end))

    def free(self, chapter_id: int, start: int, end: int,
             blocked: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
        """The parts of [start, end) that are neither used nor in `blocked`."""
        taken = sorted([*self._near(chapter_id, start, end), *blocked])
        parts: list[tuple[int, int]] = []
        cursor = start
        for low, high in taken:
            if high <= cursor:
                continue
            if low >= end:
                break
            if low > cursor:
                parts.append((cursor, low))
            cursor = max(cursor, high)
        if cursor < end:
            parts.append((cursor, end))
        return parts

    def _near(self, chapter_id: int, start: int, end: int) -> list[tuple[int, int]]:
        ranges = self._ranges.get(chapter_id, [])
        index = max(0, bisect_left(ranges, (start, start)) - 1)
        found: list[tuple[int, int]] = []
        for low, high in ranges[index:]:
            if low >= end:
                break
            if high > start:
                found.append((low, high))
        return found
