"""Media time in whole frames.

Every decision of the solver is made in integer frames at one exact frame rate
(`vss.domain.media_time`: 29.97 is 30000/1001), so coverage is exact by construction, and every
`start_time` and `duration` the core writes reads back under `clip_source_range` as the frames
it wrote; milliseconds and seconds appear only at the edges (reading the dataset, writing
timecodes the edge hands to ffmpeg).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from vss.domain import media_time
from vss.domain.timecode import format_ms


@dataclass(frozen=True, slots=True)
class FrameClock:
    """`vss.domain.media_time` at one exact rate: the editing core's only frame arithmetic."""

    rate: Fraction

    @classmethod
    def at(cls, fps: float) -> FrameClock:
        """The clock of a script's `fps`, at the exact rate behind it."""
        return cls(media_time.frame_rate(fps))

    def frame_at_or_after(self, ms: int) -> int:
        """The first frame that starts at or after `ms`."""
        return media_time.frame_at_or_after(ms, self.rate)

    def frame_at_or_before(self, ms: int) -> int:
        """The last frame boundary at or before `ms`."""
        return media_time.frame_at_or_before(ms, self.rate)

    def nearest_frame(self, seconds: float) -> int:
        """Half-up rounding of a duration or position in seconds."""
        return media_time.nearest_frame(seconds, self.rate)

    def ms(self, frame: int) -> int:
        """The millisecond a frame starts at, rounded down: `ffmpeg -ss` at this time keeps
        the frame."""
        return media_time.frame_ms(frame, self.rate)

    def timecode(self, frame: int) -> str:
        """`HH:MM:SS.mmm` of a frame boundary, relative to its episode file."""
        return format_ms(self.ms(frame))

    def seconds(self, frames: int) -> float:
        """A position or duration in frames as seconds, to the microsecond (written to the
        script; `nearest_frame` reads it back as `frames`)."""
        return round(media_time.frame_seconds(frames, self.rate), 6)


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
