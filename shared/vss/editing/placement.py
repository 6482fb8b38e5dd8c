"""Where exactly a clip is cut inside its window.

Given a window, the span it is about (its core) and the clip's length, `place` picks the cut
points: the cleanest cuts first (see `CutQuality`), then the placement that keeps the core
whole, then the core centred. Exhaustive over the intervals of allowed cut positions, which are
few for clean cuts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from vss.editing.material import CutQuality, SceneMaterial

# Best first. (Iterating the enum itself costs several times as much, once per clip.)
_QUALITIES = tuple(CutQuality)


class Placement(NamedTuple):
    start: int
    end: int
    quality: CutQuality  # the worse of its two cuts

    @property
    def length(self) -> int:
        return self.end - self.start


def place(material: SceneMaterial, window: tuple[int, int], core: tuple[int, int],
          length: int, clean_cuts: Sequence[tuple[int, int]]) -> Placement | None:
    """A sub-span of `window` exactly `length` frames long, or None if the window is
    shorter (the solver has already chosen each clip's length, from what its window can
    give: `lengths`). `clean_cuts`: the window's clean cut positions, which the solver has
    worked out for its lengths (`material.cut_positions(*window, CutQuality.CLEAN)`)."""
    first, last = window
    if not 1 <= length <= last - first:
        return None
    core_start, core_end = max(first, core[0]), min(last, core[1])
    centred = core_start - max(0, length - (core_end - core_start)) // 2
    for quality in _QUALITIES:
        positions = clean_cuts if quality == CutQuality.CLEAN else material.cut_positions(
            first, last, quality)
        best: tuple[int, int, int] | None = None  # (breaks the core, off centre, start)
        for i, (s1, e1) in enumerate(positions):
            for s2, e2 in positions[i:]:  # (sorted and disjoint: no clip ends in an earlier one)
                # The clip starts in [s1, e1] and ends `length` later in [s2, e2].
                low, high = max(s1, s2 - length), min(e1, e2 - length)
                if low > high:
                    continue
                keep_low, keep_high = max(low, core_end - length), min(high, core_start)
                if keep_low <= keep_high:
                    key = (0, *_nearest(centred, keep_low, keep_high))
                else:
                    key = (1, *_nearest(centred, low, high))
                if best is None or key < best:
                    best = key
        if best is not None:
            start = best[2]
            if quality == CutQuality.CLEAN:  # both cuts among clean positions: clean
                return Placement(start, start + length, quality)
            # The level searched bounds the cuts; report the cuts as they really fall.
            worst = max(material.quality_of(start), material.quality_of(start + length))
            return Placement(start, start + length, worst)
    return None


def _nearest(centred: int, low: int, high: int) -> tuple[int, int]:
    """(distance from `centred`, start) of the start in [low, high] nearest `centred`."""
    start = min(max(centred, low), high)
    return abs(start - centred), start


def span_bits(low: int, high: int) -> int:
    """A bitset with bits low..high set (none when high < low)."""
    if high < low:
        return 0
    return ((1 << (high - low + 1)) - 1) << low


def lengths(positions: Sequence[tuple[int, int]], window: tuple[int, int], low: int,
            high: int) -> int:
    """Bitset of the clip lengths in [low, high] that `window` can give with both cuts in
    `positions` (its cut positions of some quality: `SceneMaterial.cut_positions`)."""
    first, last = window
    high = min(high, last - first)
    found = 0
    for i, (s1, e1) in enumerate(positions):
        for s2, e2 in positions[i:]:  # (sorted and disjoint: no clip ends in an earlier one)
            if e2 > s1:
                found |= span_bits(max(s2 - e1, low, 1), min(e2 - s1, high))
    return found


def sums(reachable: int, options: int, limit: int) -> int:
    """Bitset of a + b for a in `reachable`, b in `options`, up to `limit`."""
    total = 0
    bits = options
    while bits:
        low = bits & -bits
        shift = low.bit_length() - 1
        # A run of consecutive lengths is one OR of shifted copies, doubled up. Its length
        # is the count of trailing ones from `shift` (adding 1 carries through them):
        # counted bit by bit, a run of a clip's worth of lengths cost a hundred steps.
        carried = (bits >> shift) + 1
        run = (carried & -carried).bit_length() - 1
        spread, width = reachable << shift, 1
        while width * 2 <= run:
            spread |= spread << width
            width *= 2
        if width < run:
            spread |= spread << (run - width)
        total |= spread
        bits &= ~span_bits(shift, shift + run - 1)
    return total & span_bits(0, limit)
