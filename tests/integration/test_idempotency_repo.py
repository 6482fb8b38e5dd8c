"""Idempotency keys on the Firestore emulator: requests racing with one key claim one record
and make one task, whichever thread wins; an expired record gives way to a new claim."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from tests.support.fakes import FakePublisher, fake_deps
from tests.support.stack import stack_settings
from tests.support.tasks import valid_dataset
from vss.adapters.firestore_repos import FirestoreIdempotencyRepository, FirestoreTaskRepository
from vss.domain import tasks as rules
from vss.domain.idempotency import LIFETIME, IdempotencyRecord, new_record
from vss.domain.tasks import TaskType
from vss.service import idempotency, tasks

pytestmark = pytest.mark.integration
RACERS = 8


@pytest.fixture(scope="module")
def db() -> firestore.Client:
    return firestore.Client(project=stack_settings().project_id)


def _candidate(tenant: str, key: str, now: datetime) -> IdempotencyRecord:
    return new_record(tenant, key, "digest", uuid.uuid4().hex, now)


def test_claims_racing_on_one_key_all_get_the_one_record_stored(db: firestore.Client):
    repo = FirestoreIdempotencyRepository(db)
    tenant, key, now = f"t-{uuid.uuid4().hex[:8]}", "race", datetime.now(UTC)
    candidates = [_candidate(tenant, key, now) for _ in range(RACERS)]
    start = threading.Barrier(RACERS)

    def claim(record: IdempotencyRecord) -> IdempotencyRecord:
        start.wait()
        return repo.claim(record, now)

    with ThreadPoolExecutor(RACERS) as pool:
        claimed = list(pool.map(claim, candidates))
    assert len({c.task_id for c in claimed}) == 1
    assert claimed[0] in candidates
    assert repo.get(candidates[0].id) == claimed[0]


def test_an_expired_record_gives_way_and_a_live_one_does_not(db: firestore.Client):
    repo = FirestoreIdempotencyRepository(db)
    tenant, now = f"t-{uuid.uuid4().hex[:8]}", datetime.now(UTC)
    first = _candidate(tenant, "k", now)
    assert repo.claim(first, now) == first
    assert repo.claim(_candidate(tenant, "k", now + timedelta(hours=1)),
                      now + timedelta(hours=1)) == first
    later = now + LIFETIME
    second = _candidate(tenant, "k", later)
    assert repo.claim(second, later) == second and repo.get(first.id) == second


def test_claims_racing_on_an_expired_record_agree_on_one_new_record(db: firestore.Client):
    repo = FirestoreIdempotencyRepository(db)
    tenant, now = f"t-{uuid.uuid4().hex[:8]}", datetime.now(UTC)
    expired = _candidate(tenant, "k", now)
    repo.claim(expired, now)
    later = now + LIFETIME
    candidates = [_candidate(tenant, "k", later) for _ in range(RACERS)]
    start = threading.Barrier(RACERS)

    def claim(record: IdempotencyRecord) -> IdempotencyRecord:
        start.wait()
        return repo.claim(record, later)

    with ThreadPoolExecutor(RACERS) as pool:
        claimed = list(pool.map(claim, candidates))
    assert len({c.task_id for c in claimed}) == 1 and claimed[0] in candidates
    assert repo.get(expired.id) == claimed[0]


def test_a_task_id_is_stored_once(db: firestore.Client):
    repo = FirestoreTaskRepository(db)
    task = rules.new_task(task_id=uuid.uuid4().hex, tenant_id="t", payload={},
                          task_type=TaskType.GENERATE_NARRATION, waiting_on=[],
                          now=datetime.now(UTC), deadline=timedelta(minutes=5))
    assert repo.add(task) is True
    assert repo.add(task.model_copy(update={"payload": {"other": 1}})) is False
    stored = repo.get(task.id)
    assert stored is not None and stored.payload == {}


def test_requests_racing_with_one_key_make_one_task_and_one_stage_message(
    db: firestore.Client, blueprint_bytes: bytes
):
    deps = dataclasses.replace(fake_deps(), tasks=FirestoreTaskRepository(db),
                               idempotency=FirestoreIdempotencyRepository(db))
    tenant = f"t{uuid.uuid4().hex[:12]}"
    body = tasks.CreateTask(task_type="GENERATE_NARRATION",
                            payload={"blueprint_path": valid_dataset(deps, blueprint_bytes,
                                                                     tenant)})
    start = threading.Barrier(RACERS)

    def create(_: int) -> idempotency.Creation:
        start.wait()
        return idempotency.create_task(deps, tenant, body, "same-key")

    with ThreadPoolExecutor(RACERS) as pool:
        created = list(pool.map(create, range(RACERS)))
    assert len({c.task.id for c in created}) == 1
    assert [c.replayed for c in created].count(False) == 1
    stored, _ = deps.tasks.list_for_tenant(tenant, limit=RACERS, after=None)
    assert [t.id for t in stored] == [created[0].task.id]
    assert isinstance(deps.publisher, FakePublisher)
    assert [a["task_id"] for _, _, a in deps.publisher.published] == [created[0].task.id]
