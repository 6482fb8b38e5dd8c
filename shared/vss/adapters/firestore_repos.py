"""Firestore repositories. State changes run in transactions; reads inside a transaction lock
the documents they read, so check-and-set (and the event-id record) is atomic."""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar, cast

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1.aggregation import AggregationQuery
from pydantic import BaseModel

from vss.adapters import permissions
from vss.domain.assets import AssetIndex, asset_record_id, newer
from vss.domain.audit import AuditEntry
from vss.domain.files import FileRecord, Instance, Tenant
from vss.domain.idempotency import IdempotencyRecord
from vss.domain.quotas import QuotaOverrides
from vss.domain.tasks import Task, TaskStatus, TaskType
from vss.errors import NotFound, RetryableError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)

TASKS = "tasks"
FILES = "files"
TENANTS = "tenants"
INSTANCES = "instances"
AUDIT = "audit"  # the console's audit log: who changed what, when
ASSETS = "assets"  # story indexes, by digest of tenant and asset (vss.domain.assets)
IDEMPOTENCY_KEYS = "idempotency_keys"  # task creation's keys, by digest of tenant and key
# Workers racing on one task (twin deliveries, the last segments of a fan-out) conflict on its
# document; the loser runs its transaction again, as often as this (the client's default is 5).
TRANSACTION_ATTEMPTS = 12
# Before each attempt after the first, a pause drawn at random below BACKOFF_SECONDS doubled
# per attempt (capped): rivals that aborted each other then retry apart instead of together.
# Production keeps a retried transaction's place in line; the emulator does not, and there
# eight transactions retried at once on one document aborted each other until none committed
# (a test in tests/integration/test_firestore_contention.py).
BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 2.0
# Rounds of create-or-read an idempotency key may take: more than one only while an expired
# record of the key is being replaced by racing requests.
CLAIM_ATTEMPTS = 5


def transact(db: firestore.Client, apply: Callable[[firestore.Transaction], T], what: str) -> T:
    """Run the `@firestore.transactional` function `apply`, retried on contention. A document
    so contended that every attempt lost (many deliveries of one task's work at once) is a
    "try later", as is an aborted or unavailable backend: a RetryableError, so the message is
    redelivered with backoff instead of crashing the request. A commit that needed more than
    one attempt is logged with how many: contention is what a hot document costs."""
    attempts = 0
    body = apply.to_wrap  # type: ignore[attr-defined]  # what each attempt runs

    def counted(transaction: firestore.Transaction, *args: Any, **kwargs: Any) -> T:
        nonlocal attempts
        attempts += 1
        if attempts > 1:
            time.sleep(retry_pause(attempts))
        return cast(T, body(transaction, *args, **kwargs))

    apply.to_wrap = counted  # type: ignore[attr-defined]
    try:
        return apply(db.transaction(max_attempts=TRANSACTION_ATTEMPTS))
    except ValueError as exc:  # the client's "Failed to commit transaction in N attempts."
        if "Failed to commit transaction" not in str(exc):
            raise
        raise RetryableError(f"{what} is being changed by others; try again.",
                             details={"document": what}) from exc
    except (gexc.Aborted, gexc.ServiceUnavailable, gexc.DeadlineExceeded) as exc:
        raise RetryableError(f"{what} could not be changed now; try again.",
                             details={"document": what, "cause": type(exc).__name__}) from exc
    finally:
        if attempts > 1:
            log.info("transaction on %s ran %s times", what, attempts)


def retry_pause(attempt: int) -> float:
    """Seconds to wait before `attempt` (2 and up) of a write that lost a race: full jitter
    under an exponential cap."""
    return random.uniform(0, min(BACKOFF_SECONDS * 2 ** (attempt - 2), MAX_BACKOFF_SECONDS))


class Versions:
    """The version of each document this process last wrote, or read for its next change (its
    fields and update time), so that the change can be written on the condition that the
    document is still that version without reading it first: a worker that claimed a segment
    renews and finishes it in one call each instead of two, and claims it on the version it
    read together with its task. A version another writer replaced only costs the
    conditional write that fails, then the read as before. Bounded: the oldest are dropped."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._known: OrderedDict[str, tuple[dict[str, Any], datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> tuple[dict[str, Any], datetime] | None:
        with self._lock:
            return self._known.get(path)

    def put(self, path: str, fields: dict[str, Any], update_time: datetime) -> None:
        with self._lock:
            self._known[path] = (fields, update_time)
            self._known.move_to_end(path)
            if len(self._known) > self._size:
                self._known.popitem(last=False)

    def forget(self, path: str) -> None:
        with self._lock:
            self._known.pop(path, None)


def compare_and_set(db: firestore.Client, ref: firestore.DocumentReference,
                    read: Callable[[dict[str, Any]], M], change: Callable[[M], M], *,
                    missing: NotFound, what: str, attempts: int = TRANSACTION_ATTEMPTS,
                    versions: Versions | None = None) -> tuple[M, M]:
    """Change one document atomically without a transaction: read it, apply `change`, write
    on the condition that the document is still the version read, and on losing that race
    read again (after a random pause). A conditional write holds no lock, so rivals cannot
    keep one another waiting: the emulator's transactions, retried at once on one document,
    aborted each other until none committed (tests/integration/test_firestore_contention.py).
    `missing` is raised if there is no such document; losing every round is a
    RetryableError.

    With `versions`, a document this process wrote last is not read first: the change is
    written on the condition that it is still the version written. Only a write is decided
    that way; a change that leaves the document as it is was decided on what may be an old
    version, so it is read and decided again."""
    known = versions.get(ref.path) if versions is not None else None
    reads = 0
    while reads < attempts:
        guessed = known is not None
        if known is not None:
            (fields, version), known = known, None  # guessed once at most
        else:
            reads += 1
            if reads > 1:
                time.sleep(retry_pause(reads))
            snap = ref.get()
            if not snap.exists:
                if versions is not None:
                    versions.forget(ref.path)
                raise missing
            fields, version = cast(dict[str, Any], snap.to_dict()), snap.update_time
        before = read(fields)
        after = change(before)
        if after is before:
            if guessed:
                continue
            return before, after
        written = to_doc(after)
        changed = changed_fields(fields, written)
        if not changed:  # a new model of the same document: as good as unchanged
            if guessed:
                continue
            return before, after
        try:
            result = ref.update(changed, option=db.write_option(last_update_time=version))
        except (gexc.FailedPrecondition, gexc.Aborted, gexc.NotFound):
            continue  # another write came first: read it and decide again
        if versions is not None:
            versions.put(ref.path, written, result.update_time)
        if reads > 1:
            log.info("change of %s took %s rounds", what, reads)
        return before, after
    raise RetryableError(f"{what} is being changed by others; try again.",
                         details={"document": what})


def changed_fields(stored: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields of `written` that differ from `stored`: all a conditional write
    needs to send, since the document is still the version `stored` was (a segment's finish
    then sends its outcome, not its request again; a task's progress note, not its timeline)."""
    return {name: value for name, value in written.items()
            if name not in stored or stored[name] != value}


def to_doc(model: Any) -> dict[str, Any]:
    return model.model_dump(mode="python")


class FirestoreTaskRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._db = client
        self._tasks = client.collection(TASKS)

    def add(self, task: Task) -> bool:
        permissions.datastore("create")
        try:
            self._tasks.document(task.id).create(to_doc(task))
        except gexc.AlreadyExists:
            return False
        return True

    def get(self, task_id: str) -> Task | None:
        permissions.datastore("get")
        snap = self._tasks.document(task_id).get()
        return Task.model_validate(snap.to_dict()) if snap.exists else None

    def update(
        self, task_id: str, change: Callable[[Task], Task]
    ) -> tuple[Task, Task]:
        permissions.datastore("get", "update")
        return compare_and_set(self._db, self._tasks.document(task_id), Task.model_validate,
                               change, what=f"task {task_id}", missing=NotFound(
                                   f"Task {task_id} does not exist.",
                                   details={"task_id": task_id}))

    def update_if_unchanged(
        self, task_id: str, change: Callable[[Task], Task]
    ) -> tuple[Task, Task] | None:
        permissions.datastore("get", "update")
        ref = self._tasks.document(task_id)
        snap = ref.get()
        if not snap.exists:
            raise NotFound(f"Task {task_id} does not exist.", details={"task_id": task_id})
        stored = cast(dict[str, Any], snap.to_dict())
        before = Task.model_validate(stored)
        after = change(before)
        changed = {} if after is before else changed_fields(stored, to_doc(after))
        if changed:
            unchanged = self._db.write_option(last_update_time=snap.update_time)
            try:
                ref.update(changed, option=unchanged)
            except (gexc.FailedPrecondition, gexc.Aborted):
                return None  # another writer came first
        return before, after

    def list_for_tenant(
        self, tenant_id: str, *, limit: int, after: str | None
    ) -> tuple[list[Task], str | None]:
        permissions.datastore("list", "get")
        query = (
            self._tasks.where(filter=firestore.FieldFilter("tenant_id", "==", tenant_id))
            .order_by("created", direction=firestore.Query.DESCENDING)
            .order_by("__name__", direction=firestore.Query.DESCENDING)
        )
        if after:
            cursor = self._tasks.document(after).get()
            if not cursor.exists or cursor.get("tenant_id") != tenant_id:
                raise NotFound(f"No task {after} to continue after.", details={"after": after})
            query = query.start_after(cursor)
        snaps = list(query.limit(limit + 1).stream())
        tasks = [Task.model_validate(s.to_dict()) for s in snaps[:limit]]
        next_token = tasks[-1].id if len(snaps) > limit else None
        return tasks, next_token

    def waiting_on(self, file_id: str) -> list[Task]:
        permissions.datastore("list")
        query = self._tasks.where(
            filter=firestore.FieldFilter("waiting_on", "array_contains", file_id)
        ).where(filter=firestore.FieldFilter("status", "==", TaskStatus.PENDING.value))
        return [Task.model_validate(s.to_dict()) for s in query.stream()]

    def list_all(
        self, *, status: TaskStatus | None = None, task_type: TaskType | None = None,
        tenant_id: str | None = None, created_since: datetime | None = None,
        created_before: datetime | None = None, limit: int, after: str | None = None,
    ) -> tuple[list[Task], str | None]:
        """Equality filters over `created` descending: served by merging the one-field
        indexes `tasks_by_*_newest_first` (infra/terraform/main.tf), so any combination of
        the three filters needs no index of its own. The time window is a pair of cursors
        on the ordering field, not a range filter, so it needs none either."""
        permissions.datastore("list", "get")
        query = self._tasks.order_by("created", direction=firestore.Query.DESCENDING).order_by(
            "__name__", direction=firestore.Query.DESCENDING)
        wanted = {"status": status, "task_type": task_type, "tenant_id": tenant_id}
        if status is not None:
            query = query.where(filter=firestore.FieldFilter("status", "==", status.value))
        if task_type is not None:
            query = query.where(filter=firestore.FieldFilter("task_type", "==", task_type.value))
        if tenant_id is not None:
            query = query.where(filter=firestore.FieldFilter("tenant_id", "==", tenant_id))
        if after:
            cursor = self._tasks.document(after).get()
            if not cursor.exists or any(
                value is not None and cursor.get(name) != value for name, value in wanted.items()
            ):
                raise NotFound(f"No task {after} to continue after.", details={"after": after})
            query = query.start_after(cursor)
        elif created_before is not None:
            query = query.start_after({"created": created_before})
        if created_since is not None:
            query = query.end_at({"created": created_since})
        snaps = list(query.limit(limit + 1).stream())
        tasks = [Task.model_validate(s.to_dict()) for s in snaps[:limit]]
        return tasks, (tasks[-1].id if len(snaps) > limit else None)

    def latest_failures(self, *, code: int, limit: int) -> list[Task]:
        """By when they failed, not when they were created (a resumed task fails long after
        it was created): the index `tasks_failed_by_code_latest_first`."""
        permissions.datastore("list")
        query = (
            self._tasks.where(filter=firestore.FieldFilter("status", "==", TaskStatus.FAILED.value))
            .where(filter=firestore.FieldFilter("error.code", "==", code))
            .order_by("modified", direction=firestore.Query.DESCENDING)
        )
        return [Task.model_validate(s.to_dict()) for s in query.limit(limit).stream()]

    def count_active(self, tenant_id: str) -> int:
        """One count per non-terminal status: equality filters only, which Firestore serves
        by merging single-field indexes (an `in` on status would need a composite index)."""
        permissions.datastore("list")
        total = 0
        for status in (TaskStatus.PENDING, TaskStatus.RUNNING):
            query = self._tasks.where(
                filter=firestore.FieldFilter("tenant_id", "==", tenant_id)
            ).where(filter=firestore.FieldFilter("status", "==", status.value))
            total += int(AggregationQuery(query).count(alias="n").get()[0][0].value)
        return total

    def count_created_after(self, tenant_id: str, after: datetime) -> int:
        """The index `tasks_by_tenant_oldest_first` (tenant_id, created ascending)."""
        permissions.datastore("list")
        query = self._tasks.where(
            filter=firestore.FieldFilter("tenant_id", "==", tenant_id)
        ).where(filter=firestore.FieldFilter("created", ">", after))
        return int(AggregationQuery(query).count(alias="n").get()[0][0].value)

    def oldest_created_after(self, tenant_id: str, after: datetime) -> datetime | None:
        """A range on `created` orders by it, oldest first: the same index as the count."""
        permissions.datastore("list")
        query = self._tasks.where(
            filter=firestore.FieldFilter("tenant_id", "==", tenant_id)
        ).where(filter=firestore.FieldFilter("created", ">", after))
        for snap in query.select(["created"]).limit(1).stream():
            created: datetime = snap.get("created")
            return created
        return None


class FirestoreIdempotencyRepository:
    """One document per (tenant, key), written before the task it names; its `expire_at` is
    the TTL field (infra/terraform/main.tf `firestore_ttl`)."""

    def __init__(self, client: firestore.Client) -> None:
        self._db = client
        self._keys = client.collection(IDEMPOTENCY_KEYS)

    def get(self, record_id: str) -> IdempotencyRecord | None:
        permissions.datastore("get")
        snap = self._keys.document(record_id).get()
        return IdempotencyRecord.model_validate(snap.to_dict()) if snap.exists else None

    def claim(self, record: IdempotencyRecord, now: datetime) -> IdempotencyRecord:
        permissions.datastore("create", "get", "delete")
        # `create` rather than a transaction: the server lets exactly one of racing creates
        # through and holds no lock across calls (racing transactions on the emulator deadlock
        # on their read locks until they time out).
        ref = self._keys.document(record.id)
        for _ in range(CLAIM_ATTEMPTS):
            try:
                ref.create(to_doc(record))
                return record
            except gexc.AlreadyExists:
                pass
            snap = ref.get()
            if not snap.exists:
                continue  # deleted (by its TTL) since: create again
            found = IdempotencyRecord.model_validate(snap.to_dict())
            if found.is_live(now):
                return found
            # Expired, not yet deleted by the TTL: delete it only as read, so of claims racing
            # for an expired key one deletes it and one create wins.
            with contextlib.suppress(gexc.FailedPrecondition, gexc.NotFound):
                ref.delete(option=self._db.write_option(last_update_time=snap.update_time))
        raise RetryableError("The Idempotency-Key is contended; try again.",
                             details={"attempts": CLAIM_ATTEMPTS})


class FirestoreFileRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._db = client
        self._files = client.collection(FILES)

    def add(self, record: FileRecord) -> None:
        permissions.datastore("create", "update")
        self._files.document(record.id).set(to_doc(record))

    def get(self, file_id: str) -> FileRecord | None:
        permissions.datastore("get")
        snap = self._files.document(file_id).get()
        return FileRecord.model_validate(snap.to_dict()) if snap.exists else None

    def update(
        self, file_id: str, change: Callable[[FileRecord], FileRecord], *,
        missing: FileRecord | None = None,
    ) -> FileRecord:
        permissions.datastore("get", "update", "create")
        ref = self._files.document(file_id)

        @firestore.transactional
        def apply(transaction: firestore.Transaction) -> FileRecord:
            # Reading the document (even a missing one) in the transaction makes a concurrent
            # write to it abort and rerun this one, so `change` always sees the latest record.
            snap = ref.get(transaction=transaction)
            if snap.exists:
                before = FileRecord.model_validate(snap.to_dict())
            elif missing is not None:
                before = missing
            else:
                raise NotFound(f"File {file_id} does not exist.", details={"file_id": file_id})
            after = change(before)
            if after is not before or not snap.exists:
                transaction.set(ref, to_doc(after))
            return after

        return transact(self._db, apply, f"file {file_id}")


class FirestoreTenantRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._db = client
        self._tenants = client.collection(TENANTS)
        self._instances = client.collection(INSTANCES)

    def add_tenant(self, tenant: Tenant) -> None:
        permissions.datastore("create")
        self._tenants.document(tenant.id).create(to_doc(tenant))

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        permissions.datastore("get")
        snap = self._tenants.document(tenant_id).get()
        return Tenant.model_validate(snap.to_dict()) if snap.exists else None

    def update_quotas(
        self, tenant_id: str, change: Callable[[QuotaOverrides], QuotaOverrides]
    ) -> Tenant:
        permissions.datastore("get", "update")
        ref = self._tenants.document(tenant_id)

        @firestore.transactional
        def apply(transaction: firestore.Transaction) -> Tenant:
            snap = ref.get(transaction=transaction)
            if not snap.exists:
                raise NotFound(f"Tenant {tenant_id} does not exist.",
                               details={"tenant_id": tenant_id})
            before = Tenant.model_validate(snap.to_dict())
            after = before.model_copy(update={"quotas": change(before.quotas)})
            transaction.update(ref, {"quotas": to_doc(after.quotas)})
            return after

        return transact(self._db, apply, f"tenant {tenant_id}")

    def add_instance(self, instance: Instance) -> None:
        permissions.datastore("create")
        self._instances.document(instance.id).create(to_doc(instance))

    def save_instance(self, instance: Instance) -> None:
        permissions.datastore("update")
        self._instances.document(instance.id).set(to_doc(instance))

    def get_instance(self, instance_id: str) -> Instance | None:
        permissions.datastore("get")
        snap = self._instances.document(instance_id).get()
        return Instance.model_validate(snap.to_dict()) if snap.exists else None

    def list_tenants(self) -> list[Tenant]:
        permissions.datastore("list")
        return [Tenant.model_validate(s.to_dict()) for s in self._tenants.stream()]

    def list_instances(self, tenant_id: str | None = None) -> list[Instance]:
        permissions.datastore("list")
        query: Any = self._instances
        if tenant_id:
            query = query.where(filter=firestore.FieldFilter("tenant_id", "==", tenant_id))
        return [Instance.model_validate(s.to_dict()) for s in query.stream()]


class FirestoreAssetRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._db = client
        self._assets = client.collection(ASSETS)

    def put(self, record: AssetIndex) -> bool:
        permissions.datastore("get", "update", "create")
        ref = self._assets.document(record.id)

        @firestore.transactional
        def apply(transaction: firestore.Transaction) -> bool:
            snap = ref.get(transaction=transaction)
            current = AssetIndex.model_validate(snap.to_dict()) if snap.exists else None
            if not newer(record, current):
                return False
            transaction.set(ref, to_doc(record))
            return True

        return transact(self._db, apply, f"asset {record.asset_id}")

    def get(self, tenant_id: str, asset_id: str) -> AssetIndex | None:
        permissions.datastore("get")
        snap = self._assets.document(asset_record_id(tenant_id, asset_id)).get()
        return AssetIndex.model_validate(snap.to_dict()) if snap.exists else None

    def list_for_tenant(self, tenant_id: str) -> list[AssetIndex]:
        permissions.datastore("list", "get")
        query = self._assets.where(filter=firestore.FieldFilter("tenant_id", "==", tenant_id))
        return sorted((AssetIndex.model_validate(s.to_dict()) for s in query.stream()),
                      key=lambda a: a.asset_id)

    def delete(self, tenant_id: str, asset_id: str) -> bool:
        permissions.datastore("get", "delete")
        ref = self._assets.document(asset_record_id(tenant_id, asset_id))

        @firestore.transactional
        def apply(transaction: firestore.Transaction) -> bool:
            if not ref.get(transaction=transaction).exists:
                return False
            transaction.delete(ref)
            return True

        return transact(self._db, apply, f"asset {asset_id}")


class FirestoreAuditLog:
    """One document per entry, written once (`create`), never changed."""

    def __init__(self, client: firestore.Client) -> None:
        self._entries = client.collection(AUDIT)

    def record(self, entry: AuditEntry) -> None:
        permissions.datastore("create")
        self._entries.document(entry.id).create(to_doc(entry))

    def recent(self, *, limit: int, after: str | None = None
               ) -> tuple[list[AuditEntry], str | None]:
        permissions.datastore("list", "get")
        query = self._entries.order_by("at", direction=firestore.Query.DESCENDING).order_by(
            "__name__", direction=firestore.Query.DESCENDING)
        if after:
            cursor = self._entries.document(after).get()
            if not cursor.exists:
                raise NotFound(f"No audit entry {after} to continue after.")
            query = query.start_after(cursor)
        snaps = list(query.limit(limit + 1).stream())
        entries = [AuditEntry.model_validate(s.to_dict()) for s in snaps[:limit]]
        return entries, (entries[-1].id if len(snaps) > limit else None)
