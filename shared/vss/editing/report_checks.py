"""The checks of the editing script's validation report, one small function each.

A clip check looks at one clip of a segment (`PlacedClip`) and returns the issue it finds or
None; a segment check looks at a segment's `Tally` of frames; `reuse` at the whole script.
`vss.editing.report.validate` runs them in this order: `CLIP_CHECKS` on each clip of a
segment, `KEY_LINE_CHECKS` on its key lines, `coverage` and `below_cited_share`; `reuse` last.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from vss.domain.artifacts import BRollClip, EditingScript, EditingSegment
from vss.domain.dataset import Dataset
from vss.domain.editing_report import ReportIssue
from vss.domain.media_time import FrameRange
from vss.domain.payloads import EditingServiceParams
from vss.domain.timecode import Timecode, format_ms
from vss.editing.frames import FrameClock

__all__ = [
    "CLIP_CHECKS",
    "KEY_LINE_CHECKS",
    "ClipCheck",
    "PlacedClip",
    "Scope",
    "Tally",
    "below_cited_share",
    "coverage",
    "coverage_error_frames",
    "extension",
    "hold",
    "long_clip",
    "mid_word_cut",
    "out_of_bounds",
    "reuse",
    "short_clip",
]

_TOLERANCE_S = 1e-6


@dataclass(frozen=True, slots=True)
class Scope:
    """What every check reads besides the clip itself."""

    script: EditingScript
    dataset: Dataset
    params: EditingServiceParams
    # The script's clock, at the exact rate the solver and the renderer use: `start_time`
    # must be its timecode of `source_in_frame`, and a clip that does not list its frames is
    # read at its rate.
    clock: FrameClock
    # Each episode's first and last millisecond in the dataset: where a hold may be.
    extent: dict[int, tuple[int, int]]


class PlacedClip(NamedTuple):
    """A clip of a segment with the source frames it reads, and what the checks ask of it,
    worked out once (every check asks; a named tuple, as one is built per clip)."""

    segment: EditingSegment
    segment_index: int
    clip_index: int | None  # in b_roll_clips; None for a key line
    clip: BRollClip
    span: FrameRange
    cited: bool  # from a scene the segment cites
    footage: bool  # moving footage under the narration (not a hold, not a key line)

    @classmethod
    def of(cls, segment: EditingSegment, segment_index: int, clip_index: int | None,
           clip: BRollClip, span: FrameRange) -> PlacedClip:
        return cls(segment, segment_index, clip_index, clip, span,
                   clip.scene_id in segment.source_scene_ids,
                   clip_index is not None and not clip.freeze_frame)


@dataclass(frozen=True, slots=True)
class Tally:
    """A segment's clip frames by where they come from."""

    covered: int
    cited: int
    extended: int
    held: int

    @property
    def footage(self) -> int:
        return self.covered - self.held

    @property
    def cited_share(self) -> float:
        if self.footage:
            return self.cited / self.footage
        return 0.0 if self.held else 1.0


ClipCheck = Callable[[PlacedClip, Scope], ReportIssue | None]


# -- clip checks --------------------------------------------------------------------------------

def out_of_bounds(placed: PlacedClip, scope: Scope) -> ReportIssue | None:
    """A clip (or key line) outside its scene, or a hold outside its episode."""
    problem = _bounds(placed.clip, scope)
    if problem is None:
        return None
    if placed.clip_index is None:
        problem = f"key line: {problem}"
    return ReportIssue(kind="out_of_bounds", segment=placed.segment_index, clip=placed.clip_index,
                       message=problem)


def hold(placed: PlacedClip, scope: Scope) -> ReportIssue | None:
    """A freeze-frame: listed for the editor, never a failure."""
    clip = placed.clip
    if not clip.freeze_frame:
        return None
    return ReportIssue(kind="hold", segment=placed.segment_index, clip=placed.clip_index, message=(
        f"freeze-frame of {clip.start_time} in scene {clip.scene_id} for "
        f"{clip.duration:.3f} s"))


def mid_word_cut(placed: PlacedClip, scope: Scope) -> ReportIssue | None:
    """A cut inside a word: the solver only makes one when no clean cut covers."""
    if not placed.footage or placed.clip.cut_quality != "mid_word":
        return None
    return ReportIssue(kind="mid_word_cut", segment=placed.segment_index, clip=placed.clip_index,
                       message=f"a cut inside a word of scene {placed.clip.scene_id}")


def extension(placed: PlacedClip, scope: Scope) -> ReportIssue | None:
    """Footage from a scene the segment does not cite."""
    if not placed.footage or placed.cited:
        return None
    clip = placed.clip
    return ReportIssue(kind="extension", segment=placed.segment_index, clip=placed.clip_index,
                       message=f"{clip.duration:.3f} s from scene {clip.scene_id}, which the "
                               f"segment does not cite")


def long_clip(placed: PlacedClip, scope: Scope) -> ReportIssue | None:
    """Footage longer than `max_clip_seconds`."""
    if not placed.footage or placed.clip.duration <= scope.params.max_clip_seconds + _TOLERANCE_S:
        return None
    return ReportIssue(kind="long_clip", segment=placed.segment_index, clip=placed.clip_index,
                       message=f"{placed.clip.duration:.3f} s")


def short_clip(placed: PlacedClip, scope: Scope) -> ReportIssue | None:
    """Shorter than the minimum, in a segment long enough to have avoided it."""
    minimum = scope.params.min_clip_seconds
    if not placed.footage or placed.clip.duration >= minimum - _TOLERANCE_S \
            or placed.segment.narration_duration < minimum:
        return None
    return ReportIssue(kind="short_clip", segment=placed.segment_index, clip=placed.clip_index,
                       message=f"{placed.clip.duration:.3f} s")


CLIP_CHECKS: tuple[ClipCheck, ...] = (out_of_bounds, hold, mid_word_cut, extension, long_clip,
                                      short_clip)
KEY_LINE_CHECKS: tuple[ClipCheck, ...] = (out_of_bounds,)


# -- segment and script checks ------------------------------------------------------------------

def coverage(index: int, segment: EditingSegment, tally: Tally, target: int,
             scope: Scope) -> ReportIssue | None:
    """The clips do not cover the segment's frames, or stray over a frame from its audio."""
    error_frames = coverage_error_frames(segment, tally, scope)
    if tally.covered == target and abs(error_frames) <= 1 + _TOLERANCE_S:
        return None
    return ReportIssue(kind="coverage", segment=index, message=(
        f"clips cover {tally.covered} frames, the narration needs {target} "
        f"({segment.narration_duration} s)"))


def below_cited_share(index: int, tally: Tally, scope: Scope) -> ReportIssue | None:
    """Less of the segment's footage from its cited scenes than `min_cited_share`."""
    share = tally.cited_share
    if share + _TOLERANCE_S >= scope.params.min_cited_share:
        return None
    return ReportIssue(kind="below_cited_share", segment=index, message=(
        f"{share:.0%} of the clip time comes from the cited scenes"))


def reuse(reused_frames: int, scope: Scope) -> ReportIssue | None:
    """Source frames shown more than once, unless `allow_reuse`."""
    if not reused_frames or scope.params.allow_reuse:
        return None
    return ReportIssue(kind="reuse", segment=-1, message=(
        f"{reused_frames} source frames are shown more than once"))


def coverage_error_frames(segment: EditingSegment, tally: Tally, scope: Scope) -> float:
    """The segment's clip frames minus its audio's length in frames (at the exact rate, as
    a float: what a float times the `Fraction` gives, without its conversion every time)."""
    return tally.covered - segment.narration_duration * scope.clock.frames_per_second


def _start_ms(clip: BRollClip, clock: FrameClock) -> int:
    """The millisecond `start_time` reads as. A time written as the clock writes its frame's
    (every clip the core cuts) reads as that frame's millisecond, `Timecode`'s canonical form
    read back: parsing it was nearly half of the bounds check."""
    frame = clip.source_in_frame
    if frame is not None and frame >= 0:
        ms = clock.ms(frame)
        if clip.start_time == format_ms(ms):
            return ms
    return Timecode.parse(clip.start_time).ms


def _bounds(clip: BRollClip, scope: Scope) -> str | None:
    """Why the clip reads outside its scene (or, for a hold, its episode); None if inside."""
    scene = scope.dataset.scenes.get(clip.scene_id)
    if scene is None:
        return f"scene {clip.scene_id} is not in the dataset"
    if scene.chapter_id != clip.chapter_id:
        return f"scene {clip.scene_id} is in chapter {scene.chapter_id}, not {clip.chapter_id}"
    start = _start_ms(clip, scope.clock)
    if clip.source_in_frame is not None and start != scope.clock.ms(clip.source_in_frame):
        return f"start_time {clip.start_time} is not frame {clip.source_in_frame}"
    if clip.freeze_frame:
        low, high = scope.extent[clip.chapter_id]
        return None if low <= start < high else f"held frame {clip.start_time} is outside " \
            f"episode {clip.chapter_id}"
    end = start + clip.duration * 1000
    if start < scene.start.ms or end > scene.end.ms + _TOLERANCE_S * 1000:
        return (f"{clip.start_time} + {clip.duration} s leaves scene {scene.id} "
                f"({scene.start} – {scene.end})")
    return None
