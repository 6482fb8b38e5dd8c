"""Media time in whole frames at an exact rate, shaped like OpenTimelineIO's `opentime`.

A frame rate is a `Fraction` (25, or 30000/1001 for NTSC's "29.97"), so a frame's time never
drifts however far into an episode it is. A `FrameRange` is OTIO's `TimeRange` with integer
frames: a start frame and a duration in frames at one rate.

`clip_source_range` is the one rule for the frames a clip reads from its episode: the editing
report, the NLE exports and the renderer all call it, so a clip without `frames` or
`source_in_frame` (a seed script, an edge's edit) is cut, reported and exported alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from vss.domain.artifacts import BRollClip
from vss.domain.timecode import Timecode

__all__ = [
    "EPSILON",
    "FrameRange",
    "clip_source_range",
    "frame_at_or_after",
    "frame_at_or_before",
    "frame_ms",
    "frame_rate",
    "frame_seconds",
    "nearest_frame",
]

_NTSC_BASES = (24, 30, 48, 60, 120)
# Absorbs the float error of a product that should land on a frame boundary (0.04 s x 25).
EPSILON = 1e-6


def frame_rate(fps: float | Fraction) -> Fraction:
    """The exact rate behind a float: 29.97 is 30000/1001, as NTSC footage really runs.

    Raises ValueError when `fps` is not a positive finite number.
    """
    if isinstance(fps, Fraction):
        if fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps}")
        return fps
    if not fps > 0 or not math.isfinite(fps):
        raise ValueError(f"fps must be a positive number, got {fps}")
    for base in _NTSC_BASES:
        ntsc = Fraction(base * 1000, 1001)
        if abs(fps - float(ntsc)) < 0.005:
            return ntsc
    return Fraction(fps).limit_denominator(1000)


# Each function computes on the rate's numerator and denominator as plain integers: a quotient
# of two ints is correctly rounded, exactly as converting the Fraction result would be, so the
# results are the Fraction arithmetic's, at a fraction of its cost (the editing core calls
# these millions of times at 10,000 segments).


def frame_at_or_after(ms: int, rate: Fraction) -> int:
    """The first frame that starts at or after `ms` milliseconds."""
    return math.ceil(ms * rate.numerator / (1000 * rate.denominator) - EPSILON)


def frame_at_or_before(ms: int, rate: Fraction) -> int:
    """The last frame boundary at or before `ms` milliseconds."""
    return math.floor(ms * rate.numerator / (1000 * rate.denominator) + EPSILON)


def nearest_frame(seconds: float, rate: Fraction) -> int:
    """A duration or position in seconds as whole frames, rounded half up."""
    return math.floor(seconds * (rate.numerator / rate.denominator) + 0.5 + EPSILON)


def frame_seconds(frame: int, rate: Fraction) -> float:
    """Where a frame starts, in seconds."""
    return frame * rate.denominator / rate.numerator


def frame_ms(frame: int, rate: Fraction) -> int:
    """The millisecond a frame starts at, rounded down: `ffmpeg -ss` at this time keeps it."""
    return (frame * 1000 * rate.denominator) // rate.numerator


@dataclass(frozen=True, slots=True)
class FrameRange:
    """`duration` frames from frame `start` at `rate` (OTIO's TimeRange in whole frames)."""

    start: int
    duration: int
    rate: Fraction

    @property
    def end(self) -> int:
        """The first frame after the range (OTIO's `end_time_exclusive`)."""
        return self.start + self.duration

    @property
    def start_seconds(self) -> float:
        return frame_seconds(self.start, self.rate)

    @property
    def duration_seconds(self) -> float:
        return frame_seconds(self.duration, self.rate)

    @property
    def start_timecode(self) -> Timecode:
        return Timecode(ms=frame_ms(self.start, self.rate))

    @property
    def end_timecode(self) -> Timecode:
        return Timecode(ms=frame_ms(self.end, self.rate))


def clip_source_range(clip: BRollClip, rate: Fraction) -> FrameRange:
    """The frames a clip reads from its episode file.

    `source_in_frame` and `frames` when the clip has them; otherwise derived from its seconds
    at `rate`: the first frame at or after `start_time`, and `duration` rounded half up to
    whole frames. Raises ValueError when `start_time` is needed and is not a timecode.
    """
    start = clip.source_in_frame
    if start is None:
        start = frame_at_or_after(Timecode.parse(clip.start_time).ms, rate)
    frames = clip.frames if clip.frames is not None else nearest_frame(clip.duration, rate)
    return FrameRange(start, frames, rate)
