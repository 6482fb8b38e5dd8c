"""Checks of a rendered file against its timeline (pure maths on what the runner measured).

- Duration: the video has exactly the timeline's frames (within one), the audio lasts the
  timeline within one frame.
- Cuts: every clip's first and last frame in the output is the source frame the script names.
  The output frame is compared with the source frames around the expected one (same scaling,
  small greyscale thumbnails); it must be closest to the expected one. Where the picture does
  not change between neighbouring frames no frame can be told apart: such a cut is reported as
  indistinguishable, not failed.
- Loudness: integrated loudness within 1 LU of the target, true peak at most -1 dBTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from vss.edge.render.graph import TARGET_LUFS
from vss.edge.render.plan import Clip, Timeline

WINDOW = 2  # source frames compared either side of the expected one
STATIC_TOLERANCE = 0.35  # mean grey-level difference below which two frames look the same
MAX_TRUE_PEAK = -1.0
LUFS_TOLERANCE = 1.0

Thumb = NDArray[np.int16]
CutStatus = Literal["on_frame", "indistinguishable", "off"]


@dataclass(frozen=True, slots=True)
class Edge:
    """A cut to check: output frame `at` must show source frame `source` of `clip`."""

    clip: int
    side: Literal["in", "out"]
    at: int
    source: int


def edges(timeline: Timeline) -> list[Edge]:
    """Each clip's first frame, and its last one unless it is a freeze-frame (whose frames
    all show its first)."""
    found: list[Edge] = []
    for k, clip in enumerate(timeline.clips):
        found.append(Edge(k, "in", clip.start, clip.source_in))
        if not clip.freeze and clip.frames > 1:
            found.append(Edge(k, "out", clip.end - 1, clip.source_in + clip.frames - 1))
    return found


def windows(clip: Clip) -> list[list[int]]:
    """The source frames a clip's edges are compared with: those around its first frame and
    (unless it is frozen) around its last."""
    around = [clip.source_in] if clip.freeze else [clip.source_in, clip.source_in + clip.frames - 1]
    return [[f for f in range(at - WINDOW, at + WINDOW + 1) if f >= 0] for at in around]


class CutCheck(BaseModel):
    clip: int
    label: str
    side: Literal["in", "out"]
    timeline_frame: int
    source_frame: int
    status: CutStatus
    offset: int = 0
    difference: float | None = Field(description="Mean grey-level difference from the "
                                     "expected source frame; None when the output lacks it.")


def locate(output: Thumb, references: dict[int, Thumb], expected: int) -> tuple[CutStatus, int,
                                                                                  float]:
    """(status, offset of the best-matching source frame from the expected one, difference)."""
    distance = {frame: float(np.abs(output - ref).mean()) for frame, ref in references.items()}
    if expected not in distance:
        return "off", 0, float("inf")
    best = min(distance, key=lambda frame: (distance[frame], abs(frame - expected)))
    if best == expected:
        return "on_frame", 0, distance[expected]
    if distance[expected] - distance[best] < STATIC_TOLERANCE:
        return "indistinguishable", best - expected, distance[expected]
    return "off", best - expected, distance[expected]


class DurationCheck(BaseModel):
    ok: bool
    timeline_frames: int
    timeline_seconds: float
    video_frames: int
    video_seconds: float
    audio_seconds: float
    frame_seconds: float


def duration_check(timeline: Timeline, video_frames: int, video_seconds: float,
                   audio_seconds: float) -> DurationCheck:
    frame = timeline.seconds(1)
    ok = (abs(video_frames - timeline.total_frames) <= 1
          and abs(video_seconds - timeline.duration) <= frame + 1e-6
          and abs(audio_seconds - timeline.duration) <= frame + 1e-6)
    return DurationCheck(ok=ok, timeline_frames=timeline.total_frames,
                         timeline_seconds=round(timeline.duration, 6), video_frames=video_frames,
                         video_seconds=video_seconds, audio_seconds=audio_seconds,
                         frame_seconds=round(frame, 6))


class LoudnessCheck(BaseModel):
    ok: bool
    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range_lu: float | None = None
    target_lufs: float = TARGET_LUFS
    max_true_peak_dbtp: float = MAX_TRUE_PEAK


def loudness_check(lufs: float, true_peak: float, lra: float | None) -> LoudnessCheck:
    ok = abs(lufs - TARGET_LUFS) <= LUFS_TOLERANCE and true_peak <= MAX_TRUE_PEAK
    return LoudnessCheck(ok=ok, integrated_lufs=lufs, true_peak_dbtp=true_peak,
                         loudness_range_lu=lra)


class CutsSummary(BaseModel):
    ok: bool
    checked: int
    on_frame: int
    indistinguishable: int
    off: list[CutCheck]


def cuts_summary(checks: list[CutCheck]) -> CutsSummary:
    off = [c for c in checks if c.status == "off"]
    return CutsSummary(ok=not off, checked=len(checks),
                       on_frame=sum(c.status == "on_frame" for c in checks),
                       indistinguishable=sum(c.status == "indistinguishable" for c in checks),
                       off=off)
