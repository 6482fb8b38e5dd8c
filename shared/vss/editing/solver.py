"""Choosing the clips under each narration segment: exact coverage, solved deterministically.

For each segment, in script order:

1. The ranked candidates of the scenes it cites are taken greedily, best first, each clip at
   most `max_frames` long, at most `target // min_frames` clips so that every clip can keep
   `min_frames`; the last slot only takes a window that completes the segment. If ranking
   order cannot complete it, the largest windows are tried, then windows longer than
   `max_frames` (a long clip only when nothing else covers).
2. Footage short: the neighbouring scenes of the same episodes (nearest first) fill the rest,
   then a freeze-frame hold of the last frame shown; both are flagged.
3. The excess over the target is trimmed from the least relevant clips first, and each clip is
   cut inside its window at the cleanest cut points (`vss.editing.placement`); the clip
   placed last takes whatever frames remain, so the sum is exact to the frame.

Ranges used by earlier segments are never offered again unless reuse is allowed, clips of one
segment never overlap or touch, and each segment's clips are returned in source order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from vss.editing.material import Candidate, CutQuality, SceneMaterial
from vss.editing.placement import lengths, place, span_bits, sums
from vss.editing.ranges import UsedRanges
from vss.editing.relevance import Scored

Ranker = Callable[[str, Sequence[Candidate]], list[Scored]]


@dataclass(frozen=True)
class SolverParams:
    min_frames: int
    max_frames: int
    allow_reuse: bool = False


@dataclass(frozen=True)
class SegmentInput:
    index: int
    narration: str
    scene_ids: tuple[int, ...]
    frames: int  # the target: the segment's audio, in whole frames
    ranked: tuple[Scored, ...]  # the cited scenes' candidates, most relevant first


class ClipPlan(NamedTuple):
    """A clip as the solver plans it (a named tuple: a few are built per segment, and a
    frozen dataclass costs several times as much to build)."""

    scene_id: int
    chapter_id: int
    start: int
    end: int  # exclusive; a hold shows frame `start` for `frames` frames
    kind: str
    origin: str  # cited | extension | hold | key_line
    score: float = 0.0
    rank: int = 0  # 1-based among the segment's candidates; 0 when not ranked
    of: int = 0
    matches: tuple[str, ...] = ()
    quality: CutQuality = CutQuality.CLEAN
    hold_frames: int = 0

    @property
    def frames(self) -> int:
        return self.hold_frames if self.origin == "hold" else self.end - self.start


@dataclass
class SegmentPlan:
    index: int
    frames: int
    clips: list[ClipPlan] = field(default_factory=list)
    key_line: ClipPlan | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return sum(clip.frames for clip in self.clips)


@dataclass
class _Pick:
    scored: Scored
    rank: int
    window: tuple[int, int]
    capacity: int
    low: int  # the shortest this clip may become
    origin: str
    length: int = 0


class Solver:
    def __init__(self, material: dict[int, SceneMaterial], params: SolverParams,
                 rank_neighbours: Ranker, used: UsedRanges | None = None) -> None:
        self.material = material
        self.params = params
        self.rank_neighbours = rank_neighbours
        self.used = used or UsedRanges()
        self.extent: dict[int, tuple[int, int]] = {}
        # Each episode's scenes, so that a segment looks only at its own episodes' scenes
        # (a look at every scene of the series per segment grows with the square).
        self.episodes: dict[int, list[SceneMaterial]] = {}
        for item in material.values():
            low, high = self.extent.get(item.scene.chapter_id, (item.start, item.end))
            self.extent[item.scene.chapter_id] = (min(low, item.start), max(high, item.end))
            self.episodes.setdefault(item.scene.chapter_id, []).append(item)

    # -- one segment ---------------------------------------------------------------------------

    def solve(self, segment: SegmentInput, reserved: ClipPlan | None = None) -> SegmentPlan:
        plan = SegmentPlan(segment.index, segment.frames, key_line=reserved)
        if reserved is not None:
            self.used.add(reserved.chapter_id, reserved.start, reserved.end)
        target = segment.frames
        if target <= 0:
            return plan
        m = self.params.min_frames
        slots = max(1, target // m)
        low = min(m, target)
        picks: list[_Pick] = []
        for pool, long_ok in self._pools(segment.ranked):
            attempt = self._greedy(pool, target, slots, low, long_ok, [], "cited")
            if sum(p.capacity for p in attempt) > sum(p.capacity for p in picks):
                picks = attempt
            if sum(p.capacity for p in picks) >= target:
                break
        total = sum(p.capacity for p in picks)
        if total < target:
            plan.notes.append(f"cited scenes give {total} of {target} frames")
            neighbours = self._neighbours(segment)
            for long_ok in (False, True):
                need = target - total
                if need <= 0:
                    break
                more = self._greedy(neighbours, need, max(1, slots - len(picks)),
                                    min(m, need), long_ok, picks, "extension")
                picks += more
                total += sum(p.capacity for p in more)
        clips = self._cut(picks, min(target, total), len(segment.ranked))
        if total < target:
            clips.append(self._hold(segment, clips, target - total))
        for clip in clips:
            if clip.origin != "hold":
                self.used.add(clip.chapter_id, clip.start, clip.end)
        plan.clips = sorted(clips, key=self._source_order)
        return plan

    def _pools(self, ranked: Sequence[Scored]
               ) -> Iterator[tuple[Iterable[tuple[int, Scored]], bool]]:
        """The orders `solve` takes candidates in, with their ranks, and whether a clip may
        pass `max_frames`: ranking order; the largest windows first (sorted only when ranking
        order fell short, which is seldom); ranking order with long clips allowed. Ranking
        order is enumerated as it is taken: the greedy pass seldom reads past the first few of
        the dozens of windows ranked."""
        yield enumerate(ranked, start=1), False
        big = self.params.max_frames
        yield sorted(enumerate(ranked, start=1),
                     key=lambda item: (-min(item[1].candidate.length, big), item[0])), False
        yield enumerate(ranked, start=1), True

    def _greedy(self, pool: Iterable[tuple[int, Scored]], need: int, slots: int, low: int,
                long_ok: bool, earlier: list[_Pick], origin: str) -> list[_Pick]:
        picks: list[_Pick] = []
        total = 0
        for rank, scored in pool:
            if total >= need or len(picks) >= slots:
                break
            last_slot = len(picks) == slots - 1
            candidate = scored.candidate
            blocked = [(p.window[0] - 1, p.window[1] + 1) for p in (*earlier, *picks)
                       if p.scored.candidate.chapter_id == candidate.chapter_id]
            core_start, core_end = candidate.core
            for start, end in self._free(candidate, blocked):
                capacity = end - start if long_ok else min(end - start, self.params.max_frames)
                if capacity < low or (last_slot and capacity < need - total):
                    continue
                # A line cut short by a neighbour's clip is not the line any more (and its
                # cut would fall mid-word); only the last resort takes what is left of it.
                if not long_ok and core_end > core_start and not (
                        start <= core_start and core_end <= end):
                    continue
                picks.append(_Pick(scored, rank, (start, end), capacity, low, origin))
                total += capacity
                break
        return picks

    def _free(self, candidate: Candidate, blocked: list[tuple[int, int]]
              ) -> list[tuple[int, int]]:
        if self.params.allow_reuse:
            return UsedRanges().free(candidate.chapter_id, candidate.start, candidate.end,
                                     blocked)
        return self.used.free(candidate.chapter_id, candidate.start, candidate.end, blocked)

    def _neighbours(self, segment: SegmentInput) -> list[tuple[int, Scored]]:
        """Candidates of the uncited scenes of the cited scenes' episodes, nearest first."""
        cited = [self.material[i] for i in segment.scene_ids if i in self.material]
        chapters = dict.fromkeys(item.scene.chapter_id for item in cited)
        distance: dict[int, int] = {}
        # The pool's order does not matter: the ranking orders candidates completely.
        for item in (item for chapter in chapters for item in self.episodes[chapter]):
            if item.scene.id in segment.scene_ids:
                continue
            distance[item.scene.id] = min(
                max(item.start - c.end, c.start - item.end, 0)
                for c in cited if c.scene.chapter_id == item.scene.chapter_id)
        pool = [c for scene_id in distance for c in self.material[scene_id].candidates]
        ranked = self.rank_neighbours(segment.narration, pool)
        ranked.sort(key=lambda s: distance[s.candidate.scene_id])  # stable: relevance inside
        return [(0, scored) for scored in ranked]

    # -- cutting -------------------------------------------------------------------------------

    def _cut(self, picks: list[_Pick], target: int, ranked: int) -> list[ClipPlan]:
        """Lengths summing to `target` exactly, each cut at the cleanest points available.

        The planned lengths trim the excess from the least relevant clips first; the lengths
        actually used are the reachable combination nearest to that plan, found as a subset
        sum over bitsets of the lengths each window can give with clean cuts (then with cuts
        between words, then anywhere, which always reaches the target)."""
        excess = sum(p.capacity for p in picks) - target
        for pick in picks:
            pick.length = pick.capacity
        for pick in sorted(picks, key=lambda p: (p.scored.score, -p.rank)):
            cut = min(excess, pick.length - pick.low)
            if cut > 0:
                pick.length -= cut
                excess -= cut
        # Each window's clean cut positions, worked out once: both the lengths it can give
        # and where its clip is placed start from them.
        clean = [self.material[p.scored.candidate.scene_id].cut_positions(
            *p.window, CutQuality.CLEAN) for p in picks]
        chosen = self._lengths(picks, target, clean)
        clips: list[ClipPlan] = []
        for pick, length, clean_cuts in zip(picks, chosen, clean, strict=True):
            candidate = pick.scored.candidate
            placed = place(self.material[candidate.scene_id], pick.window, candidate.core,
                           length, clean_cuts)
            if placed is None:  # cannot happen: the length came from the window itself
                raise AssertionError(f"no placement of {length} in {pick.window}")
            clips.append(ClipPlan(
                candidate.scene_id, candidate.chapter_id, placed.start, placed.end,
                candidate.kind, pick.origin, pick.scored.score, pick.rank,
                ranked if pick.origin == "cited" else 0, pick.scored.matches, placed.quality))
        return clips

    def _lengths(self, picks: list[_Pick], target: int, clean: list[list[tuple[int, int]]]
                 ) -> list[int]:
        """Clean cuts everywhere if they reach the target; else one clip (silence first,
        then the least relevant) may cut between words, then anywhere; else all may.
        `clean`: each window's clean cut positions."""
        planned = [p.length for p in picks]
        for attempt in self._length_options(picks, clean):
            chosen = _subset_sum(attempt, planned, target)
            if chosen is not None:
                return chosen
        raise AssertionError("lengths within the windows cannot reach the target")

    def _length_options(self, picks: list[_Pick], clean_cuts: list[list[tuple[int, int]]]
                        ) -> Iterator[list[int]]:
        """Each clip's reachable lengths, in the order `_lengths` tries them. Lazy: clean
        cuts nearly always reach the target, and the lengths with cuts between words (every
        pair of word boundaries of a window) would otherwise be most of the solver's time."""
        def options(quality: CutQuality) -> list[int]:
            return [lengths(self.material[p.scored.candidate.scene_id].cut_positions(
                *p.window, quality), p.window, p.low, p.capacity) for p in picks]

        clean = [lengths(positions, p.window, p.low, p.capacity)
                 for p, positions in zip(picks, clean_cuts, strict=True)]
        yield clean
        order = sorted(range(len(picks)), key=lambda i: (
            picks[i].scored.candidate.kind in ("dialogue", "dialogue_group"),
            picks[i].scored.score))
        for quality in (CutQuality.WORD, CutQuality.MID_WORD):
            worse = options(quality)
            for one in order:
                yield [worse[i] if i == one else clean[i] for i in range(len(picks))]
            yield worse

    def _hold(self, segment: SegmentInput, clips: list[ClipPlan], frames: int) -> ClipPlan:
        """Freeze the last frame shown; chosen so that reading `frames` frames from it (as a
        renderer that ignores the flag would) stays inside the episode when it can."""
        if clips:
            last = max(clips, key=self._source_order)
            chapter_id, scene_id, frame = last.chapter_id, last.scene_id, last.end - 1
        else:
            item = next(self.material[i] for i in segment.scene_ids if i in self.material)
            chapter_id, scene_id, frame = item.scene.chapter_id, item.scene.id, item.start
        first, end = self.extent[chapter_id]
        if frame + frames > end:
            frame = max(first, end - frames)
        # The frame must belong to a scene: the nearest scene of the episode that has one.
        scenes = [item for item in self.episodes.get(chapter_id, ()) if item.end > item.start]
        if scenes:
            item = min(scenes, key=lambda i: (max(i.start - frame, frame - (i.end - 1), 0),
                                              i.scene.id))
            scene_id, frame = item.scene.id, min(max(frame, item.start), item.end - 1)
        return ClipPlan(scene_id, chapter_id, frame, frame + 1, "hold", "hold",
                        hold_frames=frames)

    def _source_order(self, clip: ClipPlan) -> tuple[int, int, int]:
        return (self.material[clip.scene_id].chapter_position, clip.start, clip.end)


def _outward(bits: int, centre: int) -> Iterator[int]:
    """The set bits of `bits` by distance from `centre`, the lower first on a tie. Only the
    lengths a window can give are visited: a window of one clean length far from the plan
    took a step per frame between them."""
    centre = max(centre, 0)
    below = bits & span_bits(0, centre)  # the bits at or below the centre
    above = bits >> (centre + 1)  # those above it, bit 0 standing for centre + 1
    while below or above:
        lower = below.bit_length() - 1  # the nearest below, -1 when none is left
        upper = centre + (above & -above).bit_length() if above else -1  # the nearest above
        if upper < 0 or (lower >= 0 and centre - lower <= upper - centre):
            yield lower
            below ^= 1 << lower
        else:
            yield upper
            above &= above - 1  # its lowest set bit cleared


def _subset_sum(options: list[int], planned: list[int], target: int) -> list[int] | None:
    """One length from each bitset of `options`, summing to `target`, nearest the plan."""
    if sum(planned) == target and all(
            (option >> length) & 1 for option, length in zip(options, planned, strict=True)):
        return list(planned)  # every window gives its planned length: nothing is nearer
    layers = [1]  # bit n of layers[i]: the first i clips can sum to n
    for option in options:
        layers.append(sums(layers[-1], option, target))
    if not (layers[-1] >> target) & 1:
        return None
    chosen: list[int] = []
    remaining = target
    for i in range(len(options) - 1, -1, -1):
        option, reachable = options[i], layers[i]
        # Searched outwards from the plan, which is nearly always reachable itself: listing
        # every length a window can give was a third of the solver's time.
        best = next(n for n in _outward(option & span_bits(0, remaining), planned[i])
                    if (reachable >> (remaining - n)) & 1)
        chosen.append(best)
        remaining -= best
    return chosen[::-1]
