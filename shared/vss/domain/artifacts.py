"""Artifacts the pipeline writes (and the edge may upload back): the seed's field names first,
ours beside them. `extra="allow"` on entries keeps fields an edge version added."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Artifact(BaseModel):
    model_config = ConfigDict(extra="allow")


class Pacing(BaseModel):
    """How a snippet was fitted to the footage under it."""

    footage_seconds: float = Field(description="Visual duration of the source scenes.")
    slot_seconds: float | None = Field(
        None, description="Speech time the footage offers: its share of the target, never "
        "more than its footage (absent in scripts from before overflow_tolerance: the budget).")
    budget_seconds: float = Field(description="Speech time allowed: the slot times "
                                  "(1 + overflow_tolerance).")
    estimated_seconds: float = Field(description="Speech time at the language's speech rate.")
    speech_rate: float = Field(description="Speech rate assumed: Chinese characters, or "
                               "English or French words, per second.")
    action: Literal["fits", "rewritten", "cut"]
    rewrites: int = Field(0, description="Rewrite requests sent to the model.")


class NarrationSnippet(_Artifact):
    narration: str = Field(min_length=1)
    source_scene_ids: list[int] = Field(min_length=1)
    pacing: Pacing | None = None
    narrative_function: str | None = None
    engine: str | None = None
    source_narration: str | None = Field(
        None, description="In a localised script: the master script's text this translates.")


class NarrationUsage(BaseModel):
    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    llm_calls: int = 0
    cost_usd: float = 0.0


class GlossaryEntry(BaseModel):
    """How a name or term of the dataset is rendered in a localised script."""

    source: str = Field(description="As the dataset and the master script write it.")
    target: str = Field(description="As every snippet of the localised script writes it.")


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
    source_lang: str | None = Field(None, description="A localised script's master language.")
    glossary: list[GlossaryEntry] | None = Field(
        None, description="A localised script's renderings of names and terms.")


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
    total_duration: float = Field(
        -1.0, description="Sum of the segments' durations (computed when a script lacks it, "
        "as the seed's own examples do).",
    )
    template_name: str = "default"
    engine: str | None = None
    engines: list[str] = Field(default_factory=list)
    sample_rate: int | None = None
    gap_seconds: float | None = Field(None, description="Silence between segments on the track.")
    narration_track_path: str | None = None
    subtitles_srt_path: str | None = None
    subtitles_vtt_path: str | None = None
    usage: DubbingUsage | None = None

    @model_validator(mode="after")
    def _total(self) -> DubbingScript:
        if self.total_duration < 0:
            self.total_duration = round(sum(s.duration_seconds for s in self.dubbing_script), 3)
        return self


AudioMode = Literal["narration_only", "ducked", "original"]


class DeliveryFormat(BaseModel):
    """The sequence an editor opens the exports in: its frame rate and frame size. As a task
    parameter `fps` may be left out (the episodes' rate); in an editing script it is set."""

    fps: float | None = Field(None, gt=0, le=120, description="Frames per second of the "
                              "sequence; default: the episodes' (the editing `fps`).")
    width: int = Field(1920, ge=16, le=8192, description="Frame width in pixels.")
    height: int = Field(1080, ge=16, le=8192, description="Frame height in pixels.")


class BRollClip(_Artifact):
    """One source clip. The edge renders `ffmpeg -ss <start_time> -i <episode> -t <duration>`."""

    scene_id: int
    chapter_id: int
    source_file: str | None = Field(None, description="The episode's media file (its chapter's "
                                    "source_file).")
    source_media: str | None = Field(
        None, description="The stem of the episode's video as the edge finds it "
        "(vss.domain.media_names): `31_ep02_l1` for a chapter annotated from "
        "`31_ep02_l1.ass`, `ep02` for one that names no file. The exports name the media so.")
    start_time: str = Field(description="HH:MM:SS.mmm in the episode file: the first frame.")
    end_time: str
    duration: float = Field(description="Seconds: frames / fps.")
    frames: int | None = None
    source_in_frame: int | None = Field(None, description="First frame in the episode file.")
    timeline_start: float | None = Field(None, description="Seconds from the start of the "
                                         "exported timeline (key lines included).")
    timeline_start_frame: int | None = None
    kind: str | None = Field(None, description="dialogue | dialogue_group | establishing | "
                             "action | reaction | hold")
    origin: str | None = Field(None, description="cited | extension | hold | key_line")
    audio_mode: AudioMode | None = None
    source_gain_db: float | None = Field(None, description="Gain of the source audio; absent "
                                         "when it is muted.")
    freeze_frame: bool = Field(False, description="Hold the frame at start_time for duration.")
    relevance: float | None = None
    cut_quality: Literal["clean", "word", "mid_word"] | None = None
    reason: str | None = Field(None, description="Why this clip was chosen.")


class EditingSegment(_Artifact):
    narration: str
    narration_duration: float
    narration_audio_path: str
    b_roll_clips: list[BRollClip] = Field(description="Clips under the narration; their "
                                          "durations add up to its audio, to the frame.")
    index: int | None = None
    source_scene_ids: list[int] = Field(default_factory=list)
    narration_frames: int | None = None
    timeline_start: float | None = None
    timeline_start_frame: int | None = None
    key_lines: list[BRollClip] = Field(
        default_factory=list, description="Lines played in their original audio after the "
        "narration, which pauses for them (not part of b_roll_clips' sum).")


class EditingScript(_Artifact):
    """Each narration segment's clips in timeline order. Its totals measure two things: the
    narration (`total_duration`, the seed's name, and `narration_duration`) and the video
    (`total_frames`, `timeline_duration`), longer by the key lines the narration pauses for."""

    editing_script: list[EditingSegment] = Field(min_length=1)
    fps: float
    total_duration: float = Field(description="Seconds of narration: the segments' audio "
                                  "added up (the seed's name for narration_duration). Not the "
                                  "video's length: see timeline_duration.")
    total_frames: int | None = Field(None, description="Frames of the timeline at fps, key "
                                     "lines included: the video's length in frames.")
    narration_duration: float | None = Field(
        None, description="Seconds of narration, the same as total_duration.")
    timeline_duration: float | None = Field(
        None, description="Seconds of the timeline, key lines included: total_frames / fps, "
        "the video's length.")
    ranking: str | None = None
    lang: str | None = None
    notes: list[str] = Field(default_factory=list)
    delivery: DeliveryFormat | None = Field(
        None, description="The sequence format every timeline export carries (fps set).")
