"""The segment repository on the Firestore emulator: the fan-in counts each segment once and
moves the task on exactly once, however many workers finish at the same moment."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from tests.support.stack import stack_settings
from vss.adapters.firestore_repos import FirestoreTaskRepository
from vss.adapters.firestore_segments import FirestoreSegmentRepository
from vss.config import Settings
from vss.domain import tasks as rules
from vss.domain.leases import LeaseState
from vss.domain.results import DubbingPlanResult
from vss.domain.segments import Segment, finish_segment
from vss.domain.tasks import Stage, Task, TaskType
from vss.domain.usage import NO_USAGE, Usage
from vss.errors import NotFound, RetryableError

pytestmark = pytest.mark.integration
N = 12
PLAN = "plan1"


@pytest.fixture(scope="module")
def db() -> firestore.Client:
    return firestore.Client(project=stack_settings().project_id)


def _waiting_task(db: firestore.Client) -> Task:
    """A dubbing task whose plan fanned out N segments."""
    now = datetime.now(UTC)
    task = rules.new_task(
        task_id=uuid.uuid4().hex, tenant_id="t", task_type=TaskType.GENERATE_DUBBING,
        payload={"input_narration_path": "uploads/x/n.json"}, waiting_on=[], now=now,
        deadline=timedelta(minutes=5))
    task = rules.claim(task, Stage.DUBBING, PLAN, now, timedelta(minutes=1))
    task = rules.finish_stage(task, Stage.DUBBING, PLAN,
                              DubbingPlanResult(output_file_path="p.json", segments=N),
                              NO_USAGE, now, fan_out=N)
    FirestoreTaskRepository(db).add(task)
    segments = FirestoreSegmentRepository(db)
    segments.put_new(task.id, PLAN, [Segment(task_id=task.id, index=i, request={"i": i})
                               for i in range(N)])
    return task


def test_segments_are_stored_once_and_listed_in_order(db: firestore.Client):
    task = _waiting_task(db)
    repo = FirestoreSegmentRepository(db)
    repo.update(task.id, PLAN, 3, lambda s: s.model_copy(update={"state": LeaseState.DONE}))
    repo.put_new(task.id, PLAN, [Segment(task_id=task.id, index=i, request={"again": i})
                           for i in range(N)])  # planned again: nothing is undone
    stored = repo.list_for_task(task.id, PLAN)
    assert [s.index for s in stored] == list(range(N))
    assert stored[3].state == LeaseState.DONE and stored[3].request == {"i": 3}
    with pytest.raises(NotFound):
        repo.update(task.id, PLAN, N + 5, lambda s: s)


def test_what_the_done_segments_spent_is_summed_from_their_usage_alone(
        db: firestore.Client):
    task = _waiting_task(db)
    repo = FirestoreSegmentRepository(db)
    for index, characters in ((0, 7), (2, 5)):
        repo.update(task.id, PLAN, index, lambda s, c=characters: s.model_copy(update={
            "state": LeaseState.DONE, "usage": Usage(tts_characters=c, cost_usd=0.25)}))
    # Spent but not done (a released attempt): not the fan-out's yet.
    repo.update(task.id, PLAN, 1, lambda s: s.model_copy(update={
        "usage": Usage(tts_characters=100)}))

    assert repo.spent_by_done(task.id, PLAN) == Usage(tts_characters=12, cost_usd=0.5)
    assert repo.spent_by_done(task.id, "another-plan") == NO_USAGE


def test_concurrent_finishes_count_each_segment_once_and_start_assembly_once(
    db: firestore.Client,
):
    task = _waiting_task(db)
    repo = FirestoreSegmentRepository(db)
    tasks = FirestoreTaskRepository(db)
    finished: list[int] = []
    transitions: list[int] = []
    lock = threading.Lock()
    tokens = {index: f"attempt-{index}" for index in range(N)}
    for index in range(N):  # each segment held by its attempt
        repo.update(task.id, PLAN, index, lambda s, i=index: s.claimed(
            tokens[i], datetime.now(UTC), timedelta(minutes=1)))

    def delivered(index: int) -> None:
        """One delivery, redelivered while it answers "try later" (a contended transaction
        is a RetryableError, and Pub/Sub would deliver the message again)."""
        for _ in range(20):
            try:
                return finish(index)
            except RetryableError:
                continue
        raise AssertionError(f"segment {index}: every delivery was sent back")

    def finish(index: int) -> None:
        token = tokens[index]
        before, after = repo.update(task.id, PLAN, index, lambda s: finish_segment(
            s, token, {"i": index}, Usage(tts_characters=10), [], datetime.now(UTC)))
        if after is not before:
            with lock:
                finished.append(index)
        # Then, as the TTS worker does (vss.service.segments.fan_in), whoever counts every
        # segment done starts the waiting stage with what they spent (compare and set, so
        # only one of them does).
        done = repo.count_done(task.id, PLAN)
        if done < N:
            return
        spent = repo.spent_by_done(task.id, PLAN)
        outcome = None
        while outcome is None:  # compare and set: a lost race means another writer won
            outcome = tasks.update_if_unchanged(task.id, lambda t: rules.start_when_fanned_in(
                t, PLAN, done, spent, datetime.now(UTC)))
        before_task, after_task = outcome
        if before_task.current.state == "waiting" and after_task.current.state == "queued":
            with lock:
                transitions.append(index)

    # Every segment finished twice (a duplicate delivery racing its original), by as many
    # workers at once as the TTS worker serves (VSS_TTS_CONCURRENCY).
    with ThreadPoolExecutor(max_workers=Settings().tts_concurrency) as pool:
        list(pool.map(delivered, [i % N for i in range(2 * N)]))
    final = FirestoreTaskRepository(db).get(task.id)
    assert final is not None and final.progress is not None
    assert final.progress.done == N and final.current.state == "queued"
    assert final.spent.tts_characters == 10 * N and final.usage.is_zero
    assert sorted(finished) == list(range(N)) and len(transitions) == 1
    assert all(s.state == LeaseState.DONE for s in repo.list_for_task(task.id, PLAN))
