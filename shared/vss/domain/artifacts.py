"""Artifacts the pipeline writes (and the edge may upload back): the seed's field names first,
ours beside them. `extra="allow"` on entries keeps fields an edge version added."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Artifact(BaseModel):
    model_config = ConfigDict(extra="allow")


class Pacing(BaseModel):
    """How a snippet was fitted to the footage under it."""

    footage_seconds: float = Field(description="Visual duration of the source scenes.")
    budget_seconds: float = Field(description="Speech time allowed: its share of the target, "
                                  "never more than its footage.")
    estimated_seconds: float = Field(description="Speech time at the language's speech rate.")
    speech_rate: float = Field(description="zh characters or en words per second assumed.")
    action: Literal["fits", "rewritten", "cut"]
    rewrites: int = Field(0, description="Rewrite requests sent to the model.")


class NarrationSnippet(_Artifact):
    narration: str = Field(min_length=1)
    source_scene_ids: list[int] = Field(min_length=1)
    pacing: Pacing | None = None
    narrative_function: str | None = None
    engine: str | None = None


class NarrationUsage(BaseModel):
    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    llm_calls: int = 0
    cost_usd: float = 0.0


class NarrationScript(_Artifact):
    narration_script: list[NarrationSnippet] = Field(min_length=1)
    config_snapshot: dict[str, Any] = Field(default_factory=dict)
    engine: str | None = None
    lang: str | None = None
    prompt_version: str | None = None
    target_duration_seconds: float | None = None
    estimated_duration_seconds: float | None = None
    usage: NarrationUsage | None = None
    notes: list[str] = Field(default_factory=list)


class SegmentFit(BaseModel):
    """How a dubbing segment was fitted to its slot (DESIGN.md §8: sync without chipmunks)."""

    slot_seconds: float = Field(description="Speech time the segment had to fit.")
    slot_source: Literal["budget", "footage", "estimate"] = Field(
        description="budget/footage: the narration script's pacing; estimate: the script had "
        "no pacing, so the slot is the line's estimated speech time.")
    raw_duration_seconds: float = Field(description="The speech as synthesised, trimmed.")
    tempo: float = Field(1.0, description="Pitch-preserving speed-up applied to fit (1: none).")
    action: Literal["fits", "tempo", "shortened", "overrun", "unconstrained"] = Field(
        description="unconstrained: no footage slot (a script without pacing), nothing fitted.")
    shortened_by: Literal["rewrite", "cut"] | None = None
    overrun_seconds: float = Field(0.0, description="How far the final audio passes the slot.")
    attempts: int = Field(1, description="Syntheses it took.")


class SegmentLoudness(BaseModel):
    lufs: float = Field(description="Integrated loudness (ITU-R BS.1770).")
    true_peak_dbtp: float = Field(description="True peak, 4x oversampled.")


class DubbingSegment(_Artifact):
    narration: str = Field(min_length=1)
    source_scene_ids: list[int] = Field(min_length=1)
    duration_seconds: float = Field(ge=0)
    audio_file_path: str
    start_seconds: float | None = Field(None, description="Offset on the narration track.")
    end_seconds: float | None = None
    original_narration: str | None = Field(
        None, description="The narration script's text, when it had to be shortened to fit.")
    fit: SegmentFit | None = None
    loudness: SegmentLoudness | None = None
    engine: str | None = None
    voice: str | None = None
    fallback_reason: str | None = Field(
        None, description="Why an engine other than the template's spoke.")


class DubbingUsage(BaseModel):
    tts_characters: dict[str, int] = Field(
        default_factory=dict, description="Characters sent, by voice family or engine.")
    cost_usd: float = 0.0


class DubbingScript(_Artifact):
    dubbing_script: list[DubbingSegment] = Field(min_length=1)
    total_duration: float = Field(ge=0)
    template_name: str = "default"
    engine: str | None = None
    engines: list[str] = Field(default_factory=list)
    sample_rate: int | None = None
    gap_seconds: float | None = Field(None, description="Silence between segments on the track.")
    narration_track_path: str | None = None
    subtitles_srt_path: str | None = None
    subtitles_vtt_path: str | None = None
    usage: DubbingUsage | None = None


class BRollClip(_Artifact):
    scene_id: int
    chapter_id: int
    source_file: str | None = None
    start_time: str
    end_time: str
    duration: float


class EditingSegment(_Artifact):
    narration: str
    narration_duration: float
    narration_audio_path: str
    b_roll_clips: list[BRollClip]


class EditingScript(_Artifact):
    editing_script: list[EditingSegment] = Field(min_length=1)
    fps: float
    total_duration: float
