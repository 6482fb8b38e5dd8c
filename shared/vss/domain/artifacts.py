"""Artifacts the pipeline writes (and the edge may upload back): the seed's field names first,
ours beside them. `extra="allow"` on entries keeps fields an edge version added."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Artifact(BaseModel):
    model_config = ConfigDict(extra="allow")


class Pacing(BaseModel):
    budget_seconds: float = Field(description="Visual duration of the source scenes.")
    estimated_seconds: float = Field(description="Speech time at the language's speech rate.")
    action: str = Field(description="fits | cut")


class NarrationSnippet(_Artifact):
    narration: str = Field(min_length=1)
    source_scene_ids: list[int] = Field(min_length=1)
    pacing: Pacing | None = None


class NarrationScript(_Artifact):
    narration_script: list[NarrationSnippet] = Field(min_length=1)
    config_snapshot: dict[str, Any] = Field(default_factory=dict)
    engine: str | None = None


class DubbingSegment(_Artifact):
    narration: str = Field(min_length=1)
    source_scene_ids: list[int] = Field(min_length=1)
    duration_seconds: float = Field(ge=0)
    audio_file_path: str


class DubbingScript(_Artifact):
    dubbing_script: list[DubbingSegment] = Field(min_length=1)
    total_duration: float = Field(ge=0)
    template_name: str = "default"
    engine: str | None = None


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
