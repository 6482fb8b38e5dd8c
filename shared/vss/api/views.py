"""Response bodies of the API (also the source of the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from vss.domain.assets import AssetIndex
from vss.domain.files import FileRecord, FileStatus
from vss.domain.story_index import IndexReport
from vss.domain.tasks import Stage, Task, TaskError, TaskStatus, TaskType
from vss.domain.usage import Usage

API_PREFIX = "/api/v1"
# Searches of a story index (`GET /api/v1/assets/{asset_id}/search/`).
MAX_QUERY_CHARS = 1000
# A query holds something besides ASCII whitespace: one explicit class, because Python and
# JSON Schema (ECMA-262) disagree on what `\s` matches (\x1c-\x1f, for one).
QUERY_PATTERN = r"[^\t\n\v\f\r ]"
DEFAULT_K = 10


class ErrorBody(BaseModel):
    code: int
    message: str
    details: dict[str, Any] | list[Any] | str | None = None


class UploadedFile(BaseModel):
    relative_path: str
    size: int | None
    sha256: str | None
    content_type: str
    status: FileStatus


class ProgressView(BaseModel):
    """Fanned-out work done so far: `stage` starts when `done` reaches `total`."""

    stage: Stage
    done: int
    total: int


class TaskView(BaseModel):
    id: str
    task_type: TaskType
    status: TaskStatus
    stages: list[str] = Field(description="The task's stages, in order.")
    stage: Stage | None
    result: dict[str, Any] | None = Field(
        description="The seed's result: the main artifact (`output_file_path`) and its facts."
    )
    results: dict[str, dict[str, Any]] = Field(
        description="Every finished stage's result, keyed by stage."
    )
    error: TaskError | None = Field(description="The latest error.")
    errors: list[TaskError] = Field(
        description="Every error the task failed with, oldest first: a resumed task keeps "
        "the causes of its earlier failures.")
    usage: Usage
    progress: ProgressView | None = Field(
        description="While a stage's work is fanned out (dubbing segments): done of total."
    )
    waiting_on: list[str]
    created: datetime
    modified: datetime
    deadline_at: datetime
    download_url: str | None

    @classmethod
    def of(cls, task: Task, base_url: str) -> TaskView:
        done = task.status == TaskStatus.COMPLETED
        return cls(
            id=task.id, task_type=task.task_type, status=task.status,
            stages=[s.value for s in task.stages],
            stage=None if task.is_terminal else task.current.stage,
            result=task.main_result.as_seed_result() if task.main_result else None,
            results={stage.value: r.as_seed_result() for stage, r in task.results.items()},
            error=task.error, errors=task.errors, usage=task.spent, waiting_on=task.waiting_on,
            progress=ProgressView(stage=task.progress.stage, done=task.progress.done,
                                  total=task.progress.total) if task.progress else None,
            created=task.created, modified=task.modified, deadline_at=task.deadline_at,
            download_url=f"{base_url}{API_PREFIX}/files/tasks/{task.id}/download/" if done
            else None,
        )


class TaskPage(BaseModel):
    results: list[TaskView]
    next_page_token: str | None


class Health(BaseModel):
    status: Literal["ok"]
    version: str


def uploaded(record: FileRecord) -> UploadedFile:
    return UploadedFile(
        relative_path=record.relative_path, size=record.size, sha256=record.sha256,
        content_type=record.content_type, status=record.status,
    )


class AssetView(BaseModel):
    """An asset's story index, as its last deploy left it."""

    asset_id: str
    total_scene_count: int
    index_kind: str
    task_id: str = Field(description="The DEPLOY_RAG_CORPUS task that built it.")
    requested_at: datetime
    manifest_path: str = Field(description="What a narration of the asset is pinned to.")
    report: IndexReport | None = Field(None, description="What the deploy's build did: "
                                       "documents, tokenizer, build time, size, embedding "
                                       "model and cost.")

    @classmethod
    def of(cls, record: AssetIndex) -> AssetView:
        return cls.model_validate(record.model_dump(exclude={"tenant_id", "expire_at"}))


class AssetPage(BaseModel):
    results: list[AssetView]


class SearchHit(BaseModel):
    scene_id: int
    score: float = Field(description="BM25 score, or for an embeddings index the cosine "
                         "similarity of scene and query: comparable within one search only.")
    matched: list[str] = Field(description="The query's terms found in the scene (none for an "
                               "embeddings index).")
    text: str = Field(description="The lines of the scene's indexed document (summary, "
                      "lines, captions, facts...) that hold a matched term, else the document's "
                      "start; at most 300 characters.")


class SearchResults(BaseModel):
    asset_id: str
    query: str
    k: int
    hits: list[SearchHit]
    index_kind: str = Field(description="What answered: bm25, or embeddings (the scenes' "
                            "vectors, the query embedded).")
    fallback: str | None = Field(None, description="Why an embeddings index was answered by "
                                 "its BM25 artifact (no embedder for its model here).")
