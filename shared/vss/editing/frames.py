"""Media time in whole frames.

Every decision of the solver is made in integer frames at one exact frame rate
(`vss.domain.media_time`: 29.97 is 30000/1001), so coverage is exact by construction, and every
`start_time` and `duration` the core writes reads back under `clip_source_range` as the frames
it wrote; milliseconds and seconds appear only at the edges (reading the dataset, writing
timecodes the edge hands to ffmpeg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from vss.domain import media_time
from vss.domain.media_time import EPSILON
from vss.domain.timecode import format_ms


@dataclass(frozen=True, slots=True)
class FrameClock:
    """`vss.domain.media_time` at one exact rate: the editing core's only frame arithmetic.

    Each method is the media_time function of its name, the same integer arithmetic on the
    rate's numerator and denominator (tests/unit/editing holds them to the same results), with
    the two read once here: a `Fraction`'s are properties, and at 10,000 segments the core
    asks the clock about a million times (the calls through media_time cost twice as much)."""

    rate: Fraction
    _numerator: int = field(init=False, repr=False, compare=False)
    _denominator: int = field(init=False, repr=False, compare=False)
    # The rate as a float, which is what a float multiplied or divided by `rate` works with.
    frames_per_second: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        numerator, denominator = self.rate.numerator, self.rate.denominator
        object.__setattr__(self, "_numerator", numerator)
        object.__setattr__(self, "_denominator", denominator)
        object.__setattr__(self, "frames_per_second", numerator / denominator)

    @classmethod
    def at(cls, fps: float) -> FrameClock:
        """The clock of a script's `fps`, at the exact rate behind it."""
        return cls(media_time.frame_rate(fps))

    def frame_at_or_after(self, ms: int) -> int:
        """The first frame that starts at or after `ms`."""
        return math.ceil(ms * self._numerator / (1000 * self._denominator) - EPSILON)

    def frame_at_or_before(self, ms: int) -> int:
        """The last frame boundary at or before `ms`."""
        return math.floor(ms * self._numerator / (1000 * self._denominator) + EPSILON)

    def nearest_frame(self, seconds: float) -> int:
        """Half-up rounding of a duration or position in seconds."""
        return math.floor(seconds * self.frames_per_second + 0.5 + EPSILON)

    def ms(self, frame: int) -> int:
        """The millisecond a frame starts at, rounded down: `ffmpeg -ss` at this time keeps
        the frame."""
        return (frame * 1000 * self._denominator) // self._numerator

    def timecode(self, frame: int) -> str:
        """`HH:MM:SS.mmm` of a frame boundary, relative to its episode file."""
        return format_ms(self.ms(frame))

    def seconds(self, frames: int) -> float:
        """A position or duration in frames as seconds, to the microsecond (written to the
        script; `nearest_frame` reads it back as `frames`)."""
        return round(frames * self._denominator / self._numerator, 6)


def segment_frames(durations: list[float], clock: FrameClock) -> list[tuple[int, int]]:
    """(first frame, frame count) of each narration segment laid end to end.

    Positions are rounded from the cumulative audio time, not per segment, so the picture
    never drifts from the concatenated narration by more than half a frame however many
    segments there are; each segment is then within one frame of its own audio.
    """
    spans: list[tuple[int, int]] = []
    elapsed = 0.0
    start = 0
    for duration in durations:
        elapsed += duration
        end = clock.nearest_frame(elapsed)
        spans.append((start, end - start))
        start = end
    return spans
