"""Compare and set from a version this process wrote, on the Firestore emulator: a worker's
renewal and finish of the segment it claimed are one conditional write each, and any other
writer's change in between is read and decided on, never overwritten."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud import firestore
from google.cloud.firestore_v1.document import DocumentReference

from tests.support.stack import stack_settings
from vss.adapters.firestore_repos import TASKS, FirestoreTaskRepository
from vss.adapters.firestore_segments import PLANS, SEGMENTS, FirestoreSegmentRepository
from vss.domain.segments import Segment
from vss.domain.tasks import TaskType, new_task
from vss.errors import NotFound

pytestmark = pytest.mark.integration
PLAN = "plan1"


@pytest.fixture(scope="module")
def db() -> firestore.Client:
    return firestore.Client(project=stack_settings().project_id)


@pytest.fixture()
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths of the documents read, as they are read."""
    paths: list[str] = []
    real_get = DocumentReference.get

    def counted(self: DocumentReference, *args: Any, **kwargs: Any) -> Any:
        paths.append(self.path)
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(DocumentReference, "get", counted)
    yield paths


def _segment(db: firestore.Client) -> tuple[str, FirestoreSegmentRepository]:
    task_id = uuid.uuid4().hex
    repo = FirestoreSegmentRepository(db)
    repo.put_new(task_id, PLAN, [Segment(task_id=task_id, index=0, request={})])
    return task_id, repo


def _attempts_plus(n: int) -> Callable[[Segment], Segment]:
    return lambda s: s.model_copy(update={"attempts": s.attempts + n})


def test_the_next_change_of_a_document_this_process_wrote_reads_nothing(
        db: firestore.Client, reads: list[str]):
    task_id, repo = _segment(db)
    repo.update(task_id, PLAN, 0, _attempts_plus(1))
    assert len(reads) == 1  # not known yet
    before, after = repo.update(task_id, PLAN, 0, _attempts_plus(1))
    assert len(reads) == 1 and (before.attempts, after.attempts) == (1, 2)
    assert repo.list_for_task(task_id, PLAN)[0].attempts == 2


def test_a_version_another_writer_replaced_is_read_and_decided_again(
        db: firestore.Client, reads: list[str]):
    task_id, mine = _segment(db)
    theirs = FirestoreSegmentRepository(db)  # another process: its own versions
    mine.update(task_id, PLAN, 0, _attempts_plus(1))
    theirs.update(task_id, PLAN, 0, _attempts_plus(10))
    reads.clear()
    before, after = mine.update(task_id, PLAN, 0, _attempts_plus(1))
    assert (before.attempts, after.attempts) == (11, 12) and len(reads) == 1
    assert mine.list_for_task(task_id, PLAN)[0].attempts == 12


def test_leaving_a_known_version_as_it_is_is_checked_against_the_stored_one(
        db: firestore.Client):
    """A change decided on a version this process wrote, and found needless there, may be
    needed on the stored one: it is read and decided again."""
    task_id, mine = _segment(db)
    theirs = FirestoreSegmentRepository(db)
    mine.update(task_id, PLAN, 0, _attempts_plus(1))
    theirs.update(task_id, PLAN, 0, _attempts_plus(4))

    def unless_first(segment: Segment) -> Segment:  # needless while attempts is 1
        return segment if segment.attempts == 1 else segment.model_copy(
            update={"attempts": 100})

    before, after = mine.update(task_id, PLAN, 0, unless_first)
    assert (before.attempts, after.attempts) == (5, 100)
    assert mine.list_for_task(task_id, PLAN)[0].attempts == 100


def test_a_deleted_document_is_forgotten(db: firestore.Client):
    task_id, repo = _segment(db)
    repo.update(task_id, PLAN, 0, _attempts_plus(1))
    db.collection(TASKS).document(task_id).collection(PLANS).document(PLAN) \
        .collection(SEGMENTS).document("00000").delete()
    with pytest.raises(NotFound):
        repo.update(task_id, PLAN, 0, _attempts_plus(1))


def test_a_change_sends_only_the_fields_it_changes(db: firestore.Client,
                                                   monkeypatch: pytest.MonkeyPatch):
    """Times read back from Firestore equal the model's, so they are not sent again."""
    task_id, repo = _segment(db)
    repo.update(task_id, PLAN, 0, lambda s: s.claimed(
        "token", datetime.now(UTC), timedelta(minutes=1)))
    sent: list[dict[str, Any]] = []
    real_update = DocumentReference.update

    def spied(self: DocumentReference, fields: dict[str, Any], *args: Any, **kwargs: Any
              ) -> Any:
        sent.append(fields)
        return real_update(self, fields, *args, **kwargs)

    monkeypatch.setattr(DocumentReference, "update", spied)
    for writer in (repo, FirestoreSegmentRepository(db)):  # from a known version, then read
        writer.update(task_id, PLAN, 0, _attempts_plus(1))
    assert [set(fields) for fields in sent] == [{"attempts"}, {"attempts"}]
    stored = repo.list_for_task(task_id, PLAN)[0]
    assert stored.attempts == 3 and stored.holds("token")  # the claim counted one


def test_a_segment_read_with_its_task_is_claimed_on_that_version_without_another_read(
        db: firestore.Client, reads: list[str]):
    task_id, repo = _segment(db)
    assert repo.task_and_segment(task_id, PLAN, 0)[0] is None  # no task document yet
    task = new_task(task_id=task_id, tenant_id="t1", task_type=TaskType.GENERATE_DUBBING,
                    payload={}, waiting_on=[], now=datetime.now(UTC),
                    deadline=timedelta(hours=1))
    FirestoreTaskRepository(db).add(task)
    mine = FirestoreSegmentRepository(db)  # a fresh process: nothing known yet
    reads.clear()

    read_task, segment = mine.task_and_segment(task_id, PLAN, 0)
    assert read_task == task and segment is not None and segment.attempts == 0
    before, after = mine.update(task_id, PLAN, 0, _attempts_plus(1))
    assert reads == [] and (before.attempts, after.attempts) == (0, 1)
    assert mine.task_and_segment(task_id, PLAN, 9) == (task, None)  # no such segment
