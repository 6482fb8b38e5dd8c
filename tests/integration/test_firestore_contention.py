"""Many writers on one document, on the Firestore emulator: every change lands.

Pub/Sub delivers at least once, so duplicates of one segment's message meet on its document,
and stage deliveries, the API and the deadline meet on a task's. The emulator does not keep a
retried transaction's place in line as production does: eight transactions retrying at once
on one document aborted each other until almost none committed (23 of 24 changes lost after
12 attempts each), and on the stack the TTS worker's every thread spun on one segment for
half an hour. Segments now change by compare and set, and transactions pause at random before
each retry.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from tests.support.stack import stack_settings
from vss.adapters.firestore_repos import FirestoreTaskRepository
from vss.adapters.firestore_segments import FirestoreSegmentRepository
from vss.domain import tasks as rules
from vss.domain.segments import Segment
from vss.domain.tasks import Task, TaskType

pytestmark = pytest.mark.integration
WRITERS = 8
CHANGES = 3  # each writer's, one after another
PLAN = "plan1"


@pytest.fixture(scope="module")
def db() -> firestore.Client:
    return firestore.Client(project=stack_settings().project_id)


def _task(db: firestore.Client) -> Task:
    task = rules.new_task(
        task_id=uuid.uuid4().hex, tenant_id="t", task_type=TaskType.GENERATE_DUBBING,
        payload={"input_narration_path": "uploads/x/n.json"}, waiting_on=[],
        now=datetime.now(UTC), deadline=timedelta(minutes=5))
    FirestoreTaskRepository(db).add(task)
    return task


def _all_at_once(change: object) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        for future in [pool.submit(change) for _ in range(WRITERS)]:
            future.result()  # a RetryableError here is a change that never landed


def test_duplicate_deliveries_changing_one_segment_all_land(db: firestore.Client):
    task = _task(db)
    repo = FirestoreSegmentRepository(db)
    repo.put_new(task.id, PLAN, [Segment(task_id=task.id, index=0, request={})])

    def writer() -> None:
        for _ in range(CHANGES):
            repo.update(task.id, PLAN, 0,
                        lambda s: s.model_copy(update={"attempts": s.attempts + 1}))

    _all_at_once(writer)
    assert repo.list_for_task(task.id, PLAN)[0].attempts == WRITERS * CHANGES


def test_transactions_racing_on_one_task_all_commit(db: firestore.Client):
    task = _task(db)
    repo = FirestoreTaskRepository(db)

    def writer() -> None:
        for _ in range(CHANGES):
            repo.update(task.id, lambda t: t.model_copy(
                update={"waiting_on": [*t.waiting_on, uuid.uuid4().hex]}))

    _all_at_once(writer)
    stored = repo.get(task.id)
    assert stored is not None and len(stored.waiting_on) == WRITERS * CHANGES
