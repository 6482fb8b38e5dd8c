"""Every port of the project: the small interfaces the service layer and the handlers need.
Adapters implement them (`vss.adapters`), tests fake them (`tests/support/fakes.py`); nothing
above the domain reaches Google, a model or a subprocess except through one of these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from vss.domain.assets import AssetIndex, VectorScope
from vss.domain.audit import AuditEntry
from vss.domain.dead_letters import DeadLetter
from vss.domain.files import FileRecord, Instance, Tenant
from vss.domain.function_starts import FunctionStart
from vss.domain.idempotency import IdempotencyRecord
from vss.domain.quotas import QuotaOverrides
from vss.domain.segments import Segment
from vss.domain.tasks import Task, TaskStatus, TaskType
from vss.domain.usage import NO_USAGE, TenantDay, Usage

M = TypeVar("M", bound=BaseModel)


class TaskRepository(Protocol):
    def add(self, task: Task) -> bool:
        """Store a new task; False, writing nothing, if a task with its id is stored already
        (requests with one idempotency key race to store the task it names)."""
        ...
    def get(self, task_id: str) -> Task | None: ...
    def update(
        self, task_id: str, change: Callable[[Task], Task]
    ) -> tuple[Task, Task]:
        """Apply `change` in one transaction; return (before, after). Raise `NotFound` if the
        task is missing."""
        ...
    def update_if_unchanged(
        self, task_id: str, change: Callable[[Task], Task]
    ) -> tuple[Task, Task] | None:
        """Apply `change` without a transaction (compare and set): read the task, then write
        `change`'s result only if the document is still as read. (before, after) as `update`
        returns them, or None when another writer changed the document in between. For the
        many writers of a busy document (a fan-out's workers): none holds a lock on it, and
        of those that read one version exactly one can write. Raise `NotFound` if the task is
        missing."""
        ...
    def list_for_tenant(
        self, tenant_id: str, *, limit: int, after: str | None
    ) -> tuple[list[Task], str | None]:
        """Newest first, after the task `after` (the previous page's token); raise `NotFound`
        if `after` is not one of this tenant's tasks."""
        ...
    def waiting_on(self, file_id: str) -> list[Task]: ...
    def list_all(
        self, *, status: TaskStatus | None = None, task_type: TaskType | None = None,
        tenant_id: str | None = None, created_since: datetime | None = None,
        created_before: datetime | None = None, limit: int, after: str | None = None,
    ) -> tuple[list[Task], str | None]:
        """Every tenant's tasks, newest first, with the given equal fields, created at or
        after `created_since` and before `created_before`; the page after the task `after`
        (NotFound if that task is not in the list); the next page's token."""
        ...
    def latest_failures(self, *, code: int, limit: int) -> list[Task]:
        """FAILED tasks whose latest error has `code`, the most recently changed (`modified`)
        first, at most `limit`."""
        ...
    def count_active(self, tenant_id: str) -> int:
        """The tenant's tasks PENDING or RUNNING (its running-tasks quota), counted from the
        task documents themselves (aggregation queries): no counter to keep or drift."""
        ...
    def count_created_after(self, tenant_id: str, after: datetime) -> int:
        """How many of the tenant's tasks were created after `after` (an aggregation query),
        whatever their status."""
        ...
    def oldest_created_after(self, tenant_id: str, after: datetime) -> datetime | None:
        """The `created` of the tenant's oldest task created after `after`; None if there is
        none."""
        ...


class AuditLog(Protocol):
    """Who changed what, newest first."""

    def record(self, entry: AuditEntry) -> None: ...
    def recent(self, *, limit: int, after: str | None = None
               ) -> tuple[list[AuditEntry], str | None]: ...


class DeadLetterLog(Protocol):
    """The messages Pub/Sub gave up delivering (`vss.domain.dead_letters`), kept a while."""

    def record(self, letter: DeadLetter) -> bool:
        """Store `letter` unless one with its id is stored (a redelivery of the same dead
        letter); whether it was stored."""
        ...
    def since(self, at: datetime, *, limit: int) -> list[DeadLetter]:
        """Dead letters received at `at` or later, newest first, at most `limit`."""
        ...


class FunctionStarts(Protocol):
    """Each function's latest start (`vss.domain.function_starts`)."""

    def record(self, start: FunctionStart) -> None:
        """Store `start` as its function's latest, in one attempt bounded in time: a starting
        function waits on it."""
        ...
    def latest(self) -> list[FunctionStart]:
        """The latest start recorded of each function that recorded one."""
        ...


class IdempotencyRepository(Protocol):
    """Idempotency keys of task creation, one record per (tenant, key): `record.id`."""

    def get(self, record_id: str) -> IdempotencyRecord | None:
        """The stored record, live or expired (its TTL deletion may lag a day)."""
        ...
    def claim(self, record: IdempotencyRecord, now: datetime) -> IdempotencyRecord:
        """Store `record` unless a live record (`is_live(now)`) has its id; return the stored
        one: `record`, or the live one found. Atomic: of claims racing on one id, one record is
        stored and every caller gets that one."""
        ...


class SegmentRepository(Protocol):
    """The fanned-out segments of a task, one set per plan (the fencing token of the planning
    attempt whose commit won: `Progress.plan`)."""

    def put_new(self, task_id: str, plan: str, segments: list[Segment]) -> None:
        """Store the planned segments; a segment already stored keeps its state, so a stage
        planned again never undoes a finished segment."""
        ...
    def list_for_task(self, task_id: str, plan: str) -> list[Segment]:
        """The plan's segments in index order."""
        ...
    def task_and_segment(self, task_id: str, plan: str, index: int
                         ) -> tuple[Task | None, Segment | None]:
        """The task and one of its segments as stored now (None for a missing one), read
        together: what a segment's worker starts from. Its next `update` of that segment
        may be decided on the version read here, without reading it again."""
        ...
    def update(
        self, task_id: str, plan: str, index: int, change: Callable[[Segment], Segment]
    ) -> tuple[Segment, Segment]:
        """Apply `change` to one segment atomically; return (before, after). Raise
        `NotFound` if it is missing."""
        ...
    def count_done(self, task_id: str, plan: str) -> int:
        """How many of the plan's segments are done, counted from their documents (an
        aggregation query: one index read per thousand segments, and no document that every
        finishing segment writes)."""
        ...
    def spent_by_done(self, task_id: str, plan: str) -> Usage:
        """What the plan's done segments spent, summed (their usage alone is read)."""
        ...


class FileRepository(Protocol):
    def add(self, record: FileRecord) -> None: ...
    def get(self, file_id: str) -> FileRecord | None: ...
    def update(
        self, file_id: str, change: Callable[[FileRecord], FileRecord], *,
        missing: FileRecord | None = None,
    ) -> FileRecord:
        """Apply `change` in one transaction and return the result (a `change` that returns
        its argument writes nothing). A missing record is `missing` created in the same
        transaction, so two racing creators cannot overwrite each other; without it, raise
        `NotFound`."""
        ...


class AssetRepository(Protocol):
    """Each tenant's story indexes, one record per asset (`AssetIndex.id`)."""

    def put(self, record: AssetIndex) -> bool:
        """Store `record` unless the stored one is newer (`vss.domain.assets.newer`), in one
        transaction; whether it was stored."""
        ...
    def get(self, tenant_id: str, asset_id: str) -> AssetIndex | None: ...
    def list_for_tenant(self, tenant_id: str) -> list[AssetIndex]: ...
    def delete(self, tenant_id: str, asset_id: str) -> bool:
        """Remove the record; whether there was one."""
        ...


class UsageLedger(Protocol):
    """What each tenant spent per UTC day: the one place spend per tenant per day is kept.
    Every attempt's usage is charged once, after the task write that charged it committed
    (`vss.service.spending`), and so are uploaded bytes; the console's usage page and the
    daily quotas (`vss.service.quotas`) read it."""

    def charge(self, tenant_id: str, at: datetime, usage: Usage) -> None:
        """Add `usage` to the tenant's counters of `at`'s UTC day (zero usage adds nothing).
        Not idempotent: each attempt is charged by exactly one call. Raises
        `RetryableError` when the store cannot take it now."""
        ...
    def charge_upload(self, tenant_id: str, at: datetime, size: int) -> None:
        """Add `size` uploaded bytes to the tenant's `upload_bytes` of `at`'s UTC day, as
        `charge` adds usage (not idempotent; `RetryableError` when the store cannot take it)."""
        ...
    def days(self, since: date, until: date, tenant_id: str | None = None) -> list[TenantDay]:
        """The days from `since` to `until`, both included, on which the tenant (every tenant
        when None) spent or uploaded anything, oldest day first, then by tenant."""
        ...


class TenantRepository(Protocol):
    def add_tenant(self, tenant: Tenant) -> None: ...
    def get_tenant(self, tenant_id: str) -> Tenant | None: ...
    def update_quotas(
        self, tenant_id: str, change: Callable[[QuotaOverrides], QuotaOverrides]
    ) -> Tenant:
        """Apply `change` to the tenant's quota overrides in one transaction; the tenant as
        stored. Raise `NotFound` if the tenant is missing."""
        ...
    def add_instance(self, instance: Instance) -> None: ...
    def get_instance(self, instance_id: str) -> Instance | None: ...
    def save_instance(self, instance: Instance) -> None: ...
    def list_tenants(self) -> list[Tenant]: ...
    def list_instances(self, tenant_id: str | None = None) -> list[Instance]: ...


class BlobStore(Protocol):
    def write(self, bucket: str, name: str, data: bytes, content_type: str) -> int:
        """Store `data`; return the generation this write created."""
        ...
    def read(self, bucket: str, name: str, generation: int | None = None) -> bytes:
        """The live object, or exactly `generation` of it; raise `NotFound` when that
        generation is gone (a bucket without versioning keeps only the live one)."""
        ...
    def exists(self, bucket: str, name: str) -> bool: ...
    def generation(self, bucket: str, name: str) -> int | None:
        """The live object's generation; None when there is no object."""
        ...
    def signed_download_url(self, bucket: str, name: str, ttl_seconds: int) -> str: ...
    def signed_upload_url(
        self, bucket: str, name: str, *, content_type: str, size: int, ttl_seconds: int
    ) -> tuple[str, dict[str, str]]:
        """(URL, headers the client must send): one PUT of exactly `size` bytes that only
        creates the object (a second PUT of the URL is refused)."""
        ...


# A message's data and its attributes.
Message = tuple[bytes, dict[str, str]]


class Publisher(Protocol):
    def publish(self, topic: str, data: bytes, **attributes: str) -> str: ...

    def publish_all(self, topic: str, messages: Sequence[Message]) -> list[str]:
        """Publish every message, sent together, and wait for all: a fan-out's segments
        reach their workers at once instead of one publish round trip apart."""
        ...


@dataclass(frozen=True)
class QueueBacklog:
    """What a task queue's API reports of its backlog: the tasks in it and the estimated
    arrival of the next one (the oldest, when it is late). None: not reported (the local
    emulator keeps no statistics); `unavailable`: why nothing could be read."""

    queue: str
    tasks: int | None = None
    next_arrival: datetime | None = None
    unavailable: str | None = None


class DeadlineScheduler(Protocol):
    def schedule(self, task_id: str, at: datetime) -> None:
        """Check task `task_id` at `at`; every call schedules a check of its own (the check is
        idempotent). Raise `RetryableError` when the queue cannot take it."""
        ...
    def backlog(self) -> QueueBacklog:
        """The deadline queue's backlog as its API reports it; never raises (an error is
        `unavailable`)."""
        ...


class TaskStorage(Protocol):
    """A task's view of storage: reads the tenant's files, writes the task's own artifacts."""

    def read(self, relative_path: str) -> bytes: ...
    def write(self, name: str, data: bytes, content_type: str) -> str:
        """Write artifact `name` at its deterministic path; return its relative path."""
        ...


@dataclass(frozen=True)
class LlmResult(Generic[M]):
    """`parsed` is None when the model's text did not validate against the schema; `text` is
    kept so the caller can try a repair."""

    parsed: M | None
    text: str
    usage: Usage = NO_USAGE


class StructuredLlm(Protocol):
    """A model that answers a prompt with JSON matching a pydantic schema.

    Raises `RateLimited`/`RetryableError` when the provider stays unavailable after its own
    retries, `LlmError` for a refusal or a request the provider rejects.
    """

    name: str
    model: str

    def generate(self, *, system: str, prompt: str, schema: type[M],
                 temperature: float | None = None) -> LlmResult[M]:
        """`temperature`: the request's sampling temperature (None: the model's own)."""
        ...


# The model a task asked for by name (None: the configured default); None when no model is
# configured (the offline writers write then). Bound to the settings by `vss.bootstrap`.
LlmFactory = Callable[[str | None], StructuredLlm | None]


# What a text is embedded for: a document to be found, or a query that finds documents (the
# models embed the two differently).
EmbeddingPurpose = Literal["document", "query"]


@dataclass(frozen=True)
class Embeddings:
    """One vector per text, in order, and what computing them cost. `estimated`: the
    provider reported no token count, so `usage` counts tokens estimated from the text."""

    vectors: list[list[float]] = field(repr=False)
    usage: Usage = NO_USAGE
    estimated: bool = False


class Embedder(Protocol):
    """Texts to vectors of `dimensions` floats with one embedding model; it batches as its
    provider requires. Raises as `StructuredLlm` does: `RateLimited`/`RetryableError` when the
    provider stays unavailable, `LlmError` for a request it rejects."""

    name: str
    model: str
    dimensions: int

    def embed(self, texts: Sequence[str], *, purpose: EmbeddingPurpose) -> Embeddings: ...


# An embedding model by name and vector length (None: the configured ones,
# `VSS_EMBEDDING_MODEL` and `VSS_EMBEDDING_DIMENSIONS`); None when no embedding model is
# configured or no credentials are (story indexes are lexical then). Bound to the settings by
# `vss.bootstrap`.
EmbedderFactory = Callable[[str | None, int | None], Embedder | None]


@dataclass(frozen=True)
class SceneVector:
    """One scene document's embedding."""

    scene_id: int
    episode: int
    vector: Sequence[float] = field(repr=False)


@dataclass(frozen=True)
class Nearest:
    """A scene a vector search found: its cosine distance to the query (0 is the same
    direction, 2 the opposite)."""

    scene_id: int
    distance: float


class SceneVectorStore(Protocol):
    """The scene vectors of embeddings story indexes, kept per deploy (`VectorScope`)."""

    def put(self, scope: VectorScope, vectors: Sequence[SceneVector]) -> None:
        """Store `vectors` under `scope`, one record per scene: storing them again (a
        retried deploy) rewrites the same records."""
        ...
    def nearest(self, scope: str, query: Sequence[float], k: int) -> list[Nearest]:
        """The `k` (at most 1000) scenes of scope `scope` (a `VectorScope.key`) nearest to
        `query` by cosine distance, nearest first; only that scope's vectors are searched."""
        ...


@dataclass(frozen=True)
class SpeechAudio:
    """Synthesised speech and the facts about it the pipeline relies on."""

    wav: bytes = field(repr=False)
    sample_rate: int
    channels: int
    duration_seconds: float
    engine: str
    voice: str


@dataclass(frozen=True)
class SpeechRequest:
    """One utterance for a `SpeechEngine`: what the cloud voices need beside text and voice.

    `language_code` is BCP-47 (cmn-CN, en-US); `model` a Gemini-TTS model name; `prompt` a
    style instruction for promptable voices (never spoken); `cloning_key` the key of a Cloud
    TTS instant custom voice. Engines ignore what they cannot use and say so in `SpeechAudio`.
    """

    text: str
    lang: str
    voice: str | None = None
    rate: float = 1.0
    language_code: str | None = None
    model: str | None = None
    prompt: str | None = None
    cloning_key: str | None = field(default=None, repr=False)


class SpeechEngine(Protocol):
    """Text to speech with the full voice description (cloud and offline engines alike).
    Raises `TtsError` for text or a voice the engine refuses (permanent), `RetryableError`
    (`RateLimited`) when the engine is unavailable for now."""

    name: str

    def speak(self, request: SpeechRequest) -> SpeechAudio: ...


@runtime_checkable
class Preloading(Protocol):
    """An engine that can load what it speaks with before its first request (a model)."""

    def preload(self) -> None: ...


@dataclass(frozen=True)
class SpeechEngines:
    """The speech engines of a process, in the order the dubbing core tries them: `cloud`
    for cloud voice templates (None: why in `cloud_missing`), then the offline engines
    (Kokoro, then espeak-ng as the last fallback)."""

    offline: Sequence[SpeechEngine]
    cloud: SpeechEngine | None = None
    cloud_missing: str = "no Google credentials are configured"
    # Instant custom voice keys by template name (Settings.tts_voice_cloning_keys).
    cloning_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Why an offline engine is missing from `offline` (e.g. Kokoro not installed).
    offline_missing: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.offline:
            raise ValueError("at least one offline engine is needed (espeak-ng)")


class AudioTools(Protocol):
    """Audio operations that need an external tool (FFmpeg is a subprocess)."""

    def change_tempo(self, wav: bytes, factor: float) -> bytes:
        """The same speech `factor` times as fast, pitch kept (a WAV of the same format).
        Raises `TtsError` when the tool fails."""
        ...
