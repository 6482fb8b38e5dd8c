"""Hand-written fakes of the ports for unit tests; they record what happened."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Generic, ParamSpec, TypeVar

from google.api_core.exceptions import InvalidArgument

from tests.support.fake_audio import FakeAudioTools, RecordingSpeechEngine
from tests.support.fake_vectors import FakeEmbedder, FakeSceneVectors, fake_embedder_for
from vss.bootstrap.api import for_api
from vss.bootstrap.stage_worker import for_stage_worker
from vss.bootstrap.tts_worker import for_tts_worker
from vss.config import Settings
from vss.deps import Deps, no_embedder, no_llm
from vss.domain.assets import AssetIndex, asset_record_id, newer
from vss.domain.audit import AuditEntry
from vss.domain.dead_letters import DeadLetter
from vss.domain.files import FileRecord, Instance, Tenant
from vss.domain.function_starts import FunctionStart
from vss.domain.idempotency import IdempotencyRecord
from vss.domain.leases import LeaseState
from vss.domain.quotas import QuotaOverrides
from vss.domain.segments import Segment
from vss.domain.tasks import Task, TaskStatus, TaskType
from vss.domain.usage import NO_USAGE, TenantDay, Usage, utc_day
from vss.errors import NotFound
from vss.ports import (
    AudioTools,
    EmbedderFactory,
    LlmFactory,
    LlmResult,
    Message,
    QueueBacklog,
    SpeechEngine,
    SpeechEngines,
)

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


def firestore_id(doc_id: str) -> str:
    """`doc_id`, or the error Firestore answers for an id it refuses (so a malformed id that
    reaches a fake fails the way it would against the real database: a 500)."""
    if (not doc_id or "/" in doc_id or doc_id in (".", "..") or re.fullmatch(r"__.*__", doc_id)
            or len(doc_id.encode()) > 1500):
        raise InvalidArgument(f"Firestore refuses the document id {doc_id!r}")
    return doc_id


class FakeTaskRepository:
    def __init__(self) -> None:
        self.docs: dict[str, Task] = {}

    def add(self, task: Task) -> bool:
        if firestore_id(task.id) in self.docs:
            return False
        self.docs[task.id] = task
        return True

    def get(self, task_id: str) -> Task | None:
        return self.docs.get(firestore_id(task_id))

    def update(
        self, task_id: str, change: Callable[[Task], Task]
    ) -> tuple[Task, Task]:
        if firestore_id(task_id) not in self.docs:
            raise NotFound(task_id)
        before = self.docs[task_id]
        after = change(copy.deepcopy(before))
        self.docs[task_id] = after
        return before, after

    def update_if_unchanged(
        self, task_id: str, change: Callable[[Task], Task]
    ) -> tuple[Task, Task] | None:
        return self.update(task_id, change)  # one writer at a time: never a lost race

    def list_for_tenant(
        self, tenant_id: str, *, limit: int, after: str | None
    ) -> tuple[list[Task], str | None]:
        mine = sorted((t for t in self.docs.values() if t.tenant_id == tenant_id),
                      key=lambda t: (t.created, t.id), reverse=True)
        if after:
            ids = [t.id for t in mine]
            if firestore_id(after) not in ids:
                raise NotFound(f"No task {after} to continue after.")
            mine = mine[ids.index(after) + 1:]
        return mine[:limit], (mine[limit - 1].id if len(mine) > limit else None)

    def waiting_on(self, file_id: str) -> list[Task]:
        return [t for t in self.docs.values()
                if file_id in t.waiting_on and t.status == TaskStatus.PENDING]

    def list_all(
        self, *, status: TaskStatus | None = None, task_type: TaskType | None = None,
        tenant_id: str | None = None, created_since: datetime | None = None,
        created_before: datetime | None = None, limit: int, after: str | None = None,
    ) -> tuple[list[Task], str | None]:
        found = sorted((t for t in self.docs.values()
                        if status in (None, t.status) and task_type in (None, t.task_type)
                        and tenant_id in (None, t.tenant_id)
                        and (created_since is None or t.created >= created_since)
                        and (created_before is None or t.created < created_before)),
                       key=lambda t: (t.created, t.id), reverse=True)
        return _page(found, [t.id for t in found], limit, after)

    def latest_failures(self, *, code: int, limit: int) -> list[Task]:
        found = [t for t in self.docs.values() if t.status == TaskStatus.FAILED
                 and t.error is not None and t.error.code == code]
        return sorted(found, key=lambda t: (t.modified, t.id), reverse=True)[:limit]

    def count_active(self, tenant_id: str) -> int:
        return sum(t.tenant_id == tenant_id and not t.is_terminal for t in self.docs.values())

    def _created_after(self, tenant_id: str, after: datetime) -> list[Task]:
        return sorted((t for t in self.docs.values()
                       if t.tenant_id == tenant_id and t.created > after),
                      key=lambda t: (t.created, t.id))

    def count_created_after(self, tenant_id: str, after: datetime) -> int:
        return len(self._created_after(tenant_id, after))

    def oldest_created_after(self, tenant_id: str, after: datetime) -> datetime | None:
        found = self._created_after(tenant_id, after)
        return found[0].created if found else None


def _page(items: list[T], ids: list[str], limit: int, after: str | None
          ) -> tuple[list[T], str | None]:
    """The page after the item `after` and the next page's token, as the adapters page."""
    if after:
        if firestore_id(after) not in ids:
            raise NotFound(f"No {after} to continue after.")
        start = ids.index(after) + 1
        items, ids = items[start:], ids[start:]
    return items[:limit], (ids[limit - 1] if len(items) > limit else None)


class FakeAuditLog:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    def recent(self, *, limit: int, after: str | None = None
               ) -> tuple[list[AuditEntry], str | None]:
        newest = sorted(self.entries, key=lambda e: (e.at, e.id), reverse=True)
        return _page(newest, [e.id for e in newest], limit, after)


class FakeDeadLetterLog:
    def __init__(self) -> None:
        self.letters: dict[str, DeadLetter] = {}

    def record(self, letter: DeadLetter) -> bool:
        if firestore_id(letter.id) in self.letters:
            return False
        self.letters[letter.id] = letter
        return True

    def since(self, at: datetime, *, limit: int) -> list[DeadLetter]:
        found = [x for x in self.letters.values() if x.received_at >= at]
        return sorted(found, key=lambda x: x.received_at, reverse=True)[:limit]


class FakeFunctionStarts:
    def __init__(self) -> None:
        self.starts: dict[str, FunctionStart] = {}
        self.fail_with: Exception | None = None  # set to make the database unreachable

    def record(self, start: FunctionStart) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.starts[firestore_id(start.function)] = start

    def latest(self) -> list[FunctionStart]:
        return list(self.starts.values())


class FakeSegmentRepository:
    """Segments beside the fake tasks, one set per plan."""

    def __init__(self, tasks: FakeTaskRepository) -> None:
        self.tasks = tasks
        self.docs: dict[tuple[str, str, int], Segment] = {}

    def put_new(self, task_id: str, plan: str, segments: list[Segment]) -> None:
        for segment in segments:
            self.docs.setdefault((task_id, plan, segment.index), segment)

    def list_for_task(self, task_id: str, plan: str) -> list[Segment]:
        return sorted((s for (t, p, _), s in self.docs.items() if (t, p) == (task_id, plan)),
                      key=lambda s: s.index)

    def task_and_segment(self, task_id: str, plan: str, index: int
                         ) -> tuple[Task | None, Segment | None]:
        return self.tasks.docs.get(firestore_id(task_id)), self.docs.get((task_id, plan, index))

    def _get(self, task_id: str, plan: str, index: int) -> Segment:
        if (task_id, plan, index) not in self.docs:
            raise NotFound(f"Segment {index} of task {task_id} does not exist.")
        return self.docs[(task_id, plan, index)]

    def update(
        self, task_id: str, plan: str, index: int, change: Callable[[Segment], Segment]
    ) -> tuple[Segment, Segment]:
        before = self._get(task_id, plan, index)
        self.docs[(task_id, plan, index)] = change(before)
        return before, self.docs[(task_id, plan, index)]

    def count_done(self, task_id: str, plan: str) -> int:
        return sum(s.state == LeaseState.DONE for s in self.list_for_task(task_id, plan))

    def spent_by_done(self, task_id: str, plan: str) -> Usage:
        return sum((s.usage for s in self.list_for_task(task_id, plan)
                    if s.state == LeaseState.DONE), NO_USAGE)


class FakeAssetRepository:
    def __init__(self) -> None:
        self.docs: dict[str, AssetIndex] = {}

    def put(self, record: AssetIndex) -> bool:
        if not newer(record, self.docs.get(record.id)):
            return False
        self.docs[record.id] = record
        return True

    def get(self, tenant_id: str, asset_id: str) -> AssetIndex | None:
        return self.docs.get(asset_record_id(tenant_id, asset_id))

    def list_for_tenant(self, tenant_id: str) -> list[AssetIndex]:
        return sorted((a for a in self.docs.values() if a.tenant_id == tenant_id),
                      key=lambda a: a.asset_id)

    def delete(self, tenant_id: str, asset_id: str) -> bool:
        return self.docs.pop(asset_record_id(tenant_id, asset_id), None) is not None


class FakeUsageLedger:
    """The usage ledger as one counter per (tenant, UTC day); `charges` records every call
    (tenant, time, usage) and `uploads` every upload charge (tenant, time, bytes), so tests
    can count them."""

    def __init__(self) -> None:
        self.charges: list[tuple[str, datetime, Usage]] = []
        self.uploads: list[tuple[str, datetime, int]] = []

    def charge(self, tenant_id: str, at: datetime, usage: Usage) -> None:
        utc_day(at)  # an aware time, as the adapter needs
        if not usage.is_zero:
            self.charges.append((tenant_id, at, usage))

    def charge_upload(self, tenant_id: str, at: datetime, size: int) -> None:
        utc_day(at)
        if size > 0:
            self.uploads.append((tenant_id, at, size))

    def days(self, since: date, until: date, tenant_id: str | None = None) -> list[TenantDay]:
        sums: dict[tuple[date, str], Usage] = {}
        uploaded: dict[tuple[date, str], int] = {}
        for tenant, at, usage in self.charges:
            day = utc_day(at)
            if since <= day <= until and tenant_id in (None, tenant):
                sums[(day, tenant)] = sums.get((day, tenant), NO_USAGE) + usage
        for tenant, at, size in self.uploads:
            day = utc_day(at)
            if since <= day <= until and tenant_id in (None, tenant):
                uploaded[(day, tenant)] = uploaded.get((day, tenant), 0) + size
                sums.setdefault((day, tenant), NO_USAGE)
        return [TenantDay(tenant_id=tenant, day=day, usage=usage,
                          upload_bytes=uploaded.get((day, tenant), 0))
                for (day, tenant), usage in sorted(sums.items())]


class FakeIdempotencyRepository:
    def __init__(self) -> None:
        self.docs: dict[str, IdempotencyRecord] = {}

    def get(self, record_id: str) -> IdempotencyRecord | None:
        return self.docs.get(firestore_id(record_id))

    def claim(self, record: IdempotencyRecord, now: datetime) -> IdempotencyRecord:
        found = self.docs.get(firestore_id(record.id))
        if found is not None and found.is_live(now):
            return found
        self.docs[record.id] = record
        return record


class FakeFileRepository:
    def __init__(self) -> None:
        self.docs: dict[str, FileRecord] = {}

    def add(self, record: FileRecord) -> None:
        self.docs[firestore_id(record.id)] = record

    def get(self, file_id: str) -> FileRecord | None:
        return self.docs.get(firestore_id(file_id))

    def update(
        self, file_id: str, change: Callable[[FileRecord], FileRecord], *,
        missing: FileRecord | None = None,
    ) -> FileRecord:
        before = self.docs.get(firestore_id(file_id), missing)
        if before is None:
            raise NotFound(f"File {file_id} does not exist.", details={"file_id": file_id})
        self.docs[file_id] = change(before)
        return self.docs[file_id]


class FakeTenantRepository:
    def __init__(self) -> None:
        self.tenants: dict[str, Tenant] = {}
        self.instances: dict[str, Instance] = {}

    def add_tenant(self, tenant: Tenant) -> None:
        self.tenants[tenant.id] = tenant

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self.tenants.get(firestore_id(tenant_id))

    def update_quotas(
        self, tenant_id: str, change: Callable[[QuotaOverrides], QuotaOverrides]
    ) -> Tenant:
        if firestore_id(tenant_id) not in self.tenants:
            raise NotFound(f"Tenant {tenant_id} does not exist.")
        tenant = self.tenants[tenant_id]
        self.tenants[tenant_id] = tenant.model_copy(update={"quotas": change(tenant.quotas)})
        return self.tenants[tenant_id]

    def add_instance(self, instance: Instance) -> None:
        self.instances[instance.id] = instance

    def save_instance(self, instance: Instance) -> None:
        self.instances[instance.id] = instance

    def get_instance(self, instance_id: str) -> Instance | None:
        return self.instances.get(firestore_id(instance_id))

    def list_tenants(self) -> list[Tenant]:
        return list(self.tenants.values())

    def list_instances(self, tenant_id: str | None = None) -> list[Instance]:
        return [i for i in self.instances.values() if tenant_id in (None, i.tenant_id)]


@dataclass(frozen=True)
class StoredBlob:
    data: bytes
    content_type: str
    generation: int


class FakeBlobStore:
    """Each write makes a new, larger generation. Buckets have no versioning, as Terraform
    creates them: only the live generation can be read; `versioned=True` keeps the older
    ones readable too (a bucket with versioning, or the moment before an overwrite)."""

    def __init__(self, *, versioned: bool = False) -> None:
        self.blobs: dict[tuple[str, str], StoredBlob] = {}
        self.versioned = versioned
        self.noncurrent: dict[tuple[str, str, int], StoredBlob] = {}
        self._generations = itertools.count(1_700_000_000_000_001)  # microseconds, like GCS
        self.reads: list[tuple[str, str, int | None]] = []

    def write(self, bucket: str, name: str, data: bytes, content_type: str) -> int:
        if self.versioned and (old := self.blobs.get((bucket, name))) is not None:
            self.noncurrent[(bucket, name, old.generation)] = old
        stored = StoredBlob(data, content_type, next(self._generations))
        self.blobs[(bucket, name)] = stored
        return stored.generation

    def read(self, bucket: str, name: str, generation: int | None = None) -> bytes:
        self.reads.append((bucket, name, generation))
        stored = self.blobs.get((bucket, name))
        if stored is not None and generation not in (None, stored.generation):
            stored = self.noncurrent.get((bucket, name, generation))
        if stored is None:
            raise NotFound("File not found.", details={"blob": name, "generation": generation})
        return stored.data

    def exists(self, bucket: str, name: str) -> bool:
        return (bucket, name) in self.blobs

    def generation(self, bucket: str, name: str) -> int | None:
        stored = self.blobs.get((bucket, name))
        return stored.generation if stored is not None else None

    def signed_download_url(self, bucket: str, name: str, ttl_seconds: int) -> str:
        return f"https://signed.example/{bucket}/{name}?ttl={ttl_seconds}"

    def signed_upload_url(
        self, bucket: str, name: str, *, content_type: str, size: int, ttl_seconds: int
    ) -> tuple[str, dict[str, str]]:
        return (f"https://signed.example/{bucket}/{name}?put",
                {"Content-Type": content_type, "x-goog-content-length-range": f"{size},{size}",
                 "x-goog-if-generation-match": "0"})


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, dict[str, str]]] = []

    def publish(self, topic: str, data: bytes, **attributes: str) -> str:
        self.published.append((topic, data, attributes))
        return str(len(self.published))

    def publish_all(self, topic: str, messages: Sequence[Message]) -> list[str]:
        return [self.publish(topic, data, **attributes) for data, attributes in messages]


class FakeScheduler:
    def __init__(self) -> None:
        self.scheduled: list[tuple[str, datetime]] = []
        self.fail_with: Exception | None = None  # set to make the queue unavailable

    def schedule(self, task_id: str, at: datetime) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.scheduled.append((task_id, at))

    def backlog(self) -> QueueBacklog:
        """As Cloud Tasks reports it: every check scheduled, the earliest first to arrive."""
        if self.fail_with is not None:
            return QueueBacklog("vss-deadlines", unavailable=type(self.fail_with).__name__)
        return QueueBacklog("vss-deadlines", tasks=len(self.scheduled),
                            next_arrival=min((at for _, at in self.scheduled), default=None))


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def fake_ports(**settings: object) -> Deps:
    """The fake ports with `settings`, nothing wired: what the composition roots build on."""
    tasks = FakeTaskRepository()
    return Deps(
        settings=Settings(**settings),  # type: ignore[arg-type]
        tasks=tasks, files=FakeFileRepository(), tenants=FakeTenantRepository(),
        blobs=FakeBlobStore(), publisher=FakePublisher(), deadlines=FakeScheduler(),
        segments=FakeSegmentRepository(tasks), idempotency=FakeIdempotencyRepository(),
        assets=FakeAssetRepository(), vectors=FakeSceneVectors(), audit=FakeAuditLog(),
        dead_letters=FakeDeadLetterLog(), starts=FakeFunctionStarts(),
        clock=FakeClock(), usage=FakeUsageLedger(),
    )


def fake_deps(speech: SpeechEngine | None = None, *, audio: AudioTools | None = None,
              llm_for: LlmFactory | None = no_llm, embedder: FakeEmbedder | None = None,
              embedder_for: EmbedderFactory | None = None, **settings: object) -> Deps:
    """Fake ports wired by the composition roots of both workers and of the API.

    speech        the one offline speech engine (default: a RecordingSpeechEngine)
    audio         the audio tools (default: FakeAudioTools)
    llm_for       the model factory (default: no model, the offline writers write; None: the
                  roots' own, Gemini from the settings)
    embedder      the one embedding model there is: deploys embed with it when the settings'
                  `embedding_model` names it
    embedder_for  the embedding models' factory, instead of `embedder`'s
    """
    ports = fake_ports(**settings)
    config = ports.settings
    embedder_for = embedder_for or fake_embedder_for(embedder, config.embedding_model)
    # Every root on one Deps: unit tests run the API, stages and segments in one process.
    stage_worker = for_stage_worker(config, ports, llm_for=llm_for, embedder_for=embedder_for)
    workers = for_tts_worker(config, stage_worker, llm_for=llm_for,
                             speech=SpeechEngines(offline=[speech or RecordingSpeechEngine()]),
                             audio=audio or FakeAudioTools())
    return for_api(config, workers, embedder_for=embedder_for)


def fake_api_deps(**settings: object) -> Deps:
    """The API's Deps on fake ports, wired by its composition root: no stage or segment
    handler, and no embedding model (searches are lexical)."""
    ports = fake_ports(**settings)
    return for_api(ports.settings, ports, embedder_for=no_embedder)


class SwitchableFactory(Generic[P, R]):
    """A model factory the roots wire once, whose models a test changes between tasks, as a
    redeployment with a key added or lost would."""

    def __init__(self, factory: Callable[P, R]) -> None:
        self.factory = factory

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.factory(*args, **kwargs)


def model_call(input_tokens: int, output_tokens: int, cost_usd: float) -> Usage:
    """The usage of one model call."""
    return Usage(llm_input_tokens=input_tokens, llm_output_tokens=output_tokens,
                 cost_usd=cost_usd, llm_calls=1)


class ScriptedLlm:
    """A StructuredLlm whose answers come from `respond(system, prompt, schema)`; it records
    every prompt so tests can assert what the model was asked."""

    name = "scripted"
    model = "scripted-1"

    def __init__(self, respond: Callable[[str, str, type], LlmResult]) -> None:
        self.respond = respond
        self.prompts: list[tuple[str, str, str]] = []
        self.temperatures: list[float | None] = []  # as each call asked

    def generate(self, *, system: str, prompt: str, schema: type,
                 temperature: float | None = None) -> LlmResult:
        self.prompts.append((system, prompt, schema.__name__))
        self.temperatures.append(temperature)
        return self.respond(system, prompt, schema)
