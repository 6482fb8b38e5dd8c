"""What each stage leaves on its task: a typed result per stage, kept side by side so a task
of several stages keeps every stage's artifacts. `output_file_path` is the stage's main
artifact, the seed's `result.output_file_path`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vss.domain.story_index import IndexReport


class ArtifactDigest(BaseModel):
    """A published file as its attempt wrote it: the bytes under `path` are exactly these."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Relative path, downloadable with files/download/?path=.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class StageResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    output_file_path: str = Field(description="Relative path of the stage's main artifact.")
    artifacts: list[ArtifactDigest] = Field(
        default_factory=list, description="Every file the stage published (for the stage "
        "that assembles fanned-out work, the items' files too), with its sha256 and size.")

    def as_seed_result(self) -> dict[str, Any]:
        """The result as the seed's task view shows it (no `stage` tag)."""
        return self.model_dump(mode="json", exclude={"stage"})


class RetrievalSummary(BaseModel):
    """What a narration took from its asset's story index."""

    index: str = Field(description="The index manifest it read (`story_index_path`).")
    query: str = Field(description="The query its focus, characters and prompts make.")
    scene_ids: list[int] = Field(description="The scenes retrieved, best first.")
    facts_about: list[str] = Field(description="The characters whose facts the writer had.")
    index_kind: str | None = Field(None, description="What answered the query: bm25, or "
                                   "embeddings (the index's vectors, the query embedded).")
    fallback: str | None = Field(None, description="Why an embeddings index was answered by "
                                 "its BM25 artifact (no embedder for its model here).")


class NarrationResult(StageResult):
    stage: Literal["narration"] = "narration"
    snippets: int
    engine: str
    estimated_duration_seconds: float | None = None
    notes: list[str] = Field(default_factory=list)
    retrieval: RetrievalSummary | None = Field(
        None, description="Present when the narration read a story index.")


class DubbingPlanResult(StageResult):
    """The planned segments (`output_file_path`: the plan), fanned out to the TTS workers."""

    stage: Literal["dubbing"] = "dubbing"
    segments: int


class DubbingResult(StageResult):
    stage: Literal["dubbing_assembly"] = "dubbing_assembly"
    segments: int
    total_duration: float
    engine: str
    narration_track_path: str | None = None
    subtitles_srt_path: str | None = None
    subtitles_vtt_path: str | None = None


class EditingResult(StageResult):
    stage: Literal["editing"] = "editing"
    segments: int
    report_file_path: str | None = Field(None, description="The validation report.")
    exports: dict[str, str] = Field(
        default_factory=dict, description="Timeline exports by format (otio, fcpxml, "
        "fcp7_xml, edl): relative paths, downloadable like any artifact.")
    ranking: str | None = None
    clips: int | None = None
    hold_segments: int = 0
    extended_segments: int = 0
    max_coverage_error_frames: float | None = None
    valid: bool | None = Field(None, description="The validation report found no broken "
                               "guarantee.")


class LocalizationResult(StageResult):
    """LOCALIZE_NARRATION: `output_file_path` is a narration script in `target_lang`."""

    stage: Literal["localization"] = "localization"
    snippets: int
    engine: str
    source_lang: str
    target_lang: str
    estimated_duration_seconds: float | None = None
    notes: list[str] = Field(default_factory=list)


class CharacterFactsResult(StageResult):
    """`output_file_path`: the character facts (the edge sends it back as
    `facts_input_path`)."""

    stage: Literal["character_facts"] = "character_facts"
    characters: int
    facts: int
    dropped_unquoted: int = Field(0, description="Facts whose quote is not in their scene.")
    engine: str


class StoryIndexResult(StageResult):
    """`output_file_path`: the index report (`total_scene_count` first, as the edge reads
    it); the asset's index now answers searches and narrations."""

    stage: Literal["story_index"] = "story_index"
    asset_id: str
    total_scene_count: int
    documents: int
    index_kind: str
    index_path: str
    report: IndexReport | None = Field(None, description="The build's report, as in "
                                       "`output_file_path` (absent in tasks of older versions).")


AnyStageResult = Annotated[
    NarrationResult | DubbingPlanResult | DubbingResult | EditingResult | LocalizationResult
    | CharacterFactsResult | StoryIndexResult,
    Field(discriminator="stage"),
]
