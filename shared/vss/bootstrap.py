"""Wires the real adapters for a process; tests pass their own (fakes or emulator-backed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from vss.config import Settings, get_settings
from vss.ports import (
    BlobStore,
    DeadlineScheduler,
    FileRepository,
    Publisher,
    TaskRepository,
    TenantRepository,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    settings: Settings
    tasks: TaskRepository
    files: FileRepository
    tenants: TenantRepository
    blobs: BlobStore
    publisher: Publisher
    deadlines: DeadlineScheduler
    clock: Callable[[], datetime] = field(default=utc_now)


def bootstrap(settings: Settings | None = None) -> Deps:
    """Real adapters against Google Cloud (or the emulators named in the environment)."""
    from google.cloud import firestore

    from vss.adapters.cloud_tasks import CloudTasksDeadlineScheduler
    from vss.adapters.firestore_repos import (
        FirestoreFileRepository,
        FirestoreTaskRepository,
        FirestoreTenantRepository,
    )
    from vss.adapters.gcs import GcsBlobStore
    from vss.adapters.pubsub import PubSubPublisher

    s = settings or get_settings()
    db = firestore.Client(project=s.project_id)
    return Deps(
        settings=s,
        tasks=FirestoreTaskRepository(db),
        files=FirestoreFileRepository(db),
        tenants=FirestoreTenantRepository(db),
        blobs=GcsBlobStore.connect(
            s.project_id, s.storage_emulator_host, s.storage_public_url, s.signer_key_file
        ),
        publisher=PubSubPublisher(s.project_id),
        deadlines=CloudTasksDeadlineScheduler.connect(
            s.project_id, s.region, s.deadline_queue, s.deadline_url, s.tasks_emulator_host
        ),
    )
