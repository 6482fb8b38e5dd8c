"""The editing stage's validation report: what was checked on the finished editing script,
segment by segment, and every case an editor should look at (holds, extensions, reuse)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Report(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SegmentCheck(_Report):
    index: int
    narration_seconds: float
    target_frames: int = Field(description="Frames the segment takes on the timeline.")
    covered_frames: int
    coverage_error_frames: float = Field(description="Clip time minus audio time, in frames.")
    coverage_error_seconds: float
    clips: int
    cited_share: float = Field(description="Share of the clip time from the cited scenes.")
    extended_frames: int = Field(description="Frames taken from neighbouring scenes.")
    hold_frames: int
    long_clips: int = Field(description="Clips above max_clip_seconds.")
    short_clips: int = Field(description="Clips below min_clip_seconds.")
    key_lines: int


IssueKind = Literal["hold", "extension", "below_cited_share", "coverage", "out_of_bounds",
                    "reuse", "long_clip", "short_clip", "mid_word_cut", "inconsistent"]


class ReportIssue(_Report):
    kind: IssueKind
    segment: int
    clip: int | None = Field(None, description="Index in b_roll_clips (key lines: none).")
    message: str


class LengthBucket(_Report):
    up_to_seconds: float | None = Field(description="Upper bound; null for the last bucket.")
    clips: int


class ClipLengths(_Report):
    clips: int
    min_seconds: float
    p10_seconds: float
    median_seconds: float
    p90_seconds: float
    max_seconds: float
    mean_seconds: float
    histogram: list[LengthBucket]


class EditingReport(_Report):
    fps: float
    ranking: str
    min_clip_seconds: float
    max_clip_seconds: float
    min_cited_share: float
    segments: list[SegmentCheck]
    max_coverage_error_frames: float
    out_of_bounds_clips: int = Field(description="Clips outside their scene or episode.")
    reused_frames: int = Field(description="Source frames shown more than once.")
    hold_segments: list[int]
    extended_segments: list[int]
    below_cited_share: list[int]
    cited_share: float = Field(description="Share of all clip time from cited scenes.")
    clip_lengths: ClipLengths
    cut_points: dict[str, int] = Field(description="Clips by their worse cut: clean, word "
                                       "(between two words of a line), mid_word.")
    issues: list[ReportIssue]
    ok: bool = Field(description="Exact coverage, in bounds, no reuse unless allowed.")
