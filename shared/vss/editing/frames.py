"""Media time in whole frames.

Every decision of the solver is made in integer frames at one frame rate, so coverage is exact
by construction; milliseconds and seconds appear only at the edges (reading the dataset,
writing timecodes the edge hands to ffmpeg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vss.domain.timecode import format_ms

_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class FrameClock:
    fps: float

    def frame_at_or_after(self, ms: int) -> int:
        """The first frame that starts at or after `ms`."""
        return math.ceil(ms * self.fps / 1000 - _EPS)

    def frame_at_or_before(self, ms: int) -> int:
        """The last frame boundary at or before `ms`."""
        return math.floor(ms * self.fps / 1000 + _EPS)

    def nearest_frame(self, seconds: float) -> int:
        """Half-up rounding of a duration or position in seconds."""
        return math.floor(seconds * self.fps + 0.5 + _EPS)

    def ms(self, frame: int) -> int:
        """The millisecond a frame starts at, rounded down: `ffmpeg -ss` at this time keeps
        the frame (its timestamp is not before the seek point by more than a millisecond)."""
        return math.floor(frame * 1000 / self.fps + _EPS)

    def timecode(self, frame: int) -> str:
        """`HH:MM:SS.mmm` of a frame boundary, relative to its episode file."""
        return format_ms(self.ms(frame))

    def seconds(self, frames: int) -> float:
        return round(frames / self.fps, 6)


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
