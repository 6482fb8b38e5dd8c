"""What the console's failures and health pages read, on the emulators: dead letters recorded
once and read by time, function starts, tasks failed by their deadline by when they failed, and
the deadline queue's backlog (which the Cloud Tasks emulator does not report)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from tests.support.stack import stack_settings
from vss.adapters.cloud_tasks import CloudTasksDeadlineScheduler
from vss.adapters.firestore_operations import FirestoreDeadLetterLog, FirestoreFunctionStarts
from vss.adapters.firestore_repos import FirestoreTaskRepository
from vss.domain import tasks as rules
from vss.domain.dead_letters import SOURCE_DELIVERY_COUNT, DeadLetterKind, Delivery, new_dead_letter
from vss.domain.failures import TaskError
from vss.domain.function_starts import FunctionStart
from vss.domain.tasks import TaskType
from vss.errors import DeadlineExceeded

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def db() -> firestore.Client:
    return firestore.Client(project=stack_settings().project_id)


def test_a_dead_letter_is_stored_once_and_read_newest_first(db: firestore.Client):
    log = FirestoreDeadLetterLog(db)
    now = datetime.now(UTC)
    ids = [uuid.uuid4().hex for _ in range(3)]
    letters = [new_dead_letter(DeadLetterKind.STAGE, Delivery(m, {SOURCE_DELIVERY_COUNT: "8"}),
                               now - timedelta(hours=h), task_id="t1")
               for m, h in zip(ids, (1, 2, 30), strict=True)]
    assert [log.record(x) for x in letters] == [True, True, True]
    assert log.record(letters[0]) is False  # a redelivery adds nothing
    mine = [x for x in log.since(now - timedelta(hours=24), limit=1000) if x.message_id in ids]
    assert mine == letters[:2]
    # TTL policies act on Timestamp values only, which the client returns as datetimes.
    stored = db.collection("dead_letters").document(letters[0].id).get().to_dict()
    assert isinstance(stored["expire_at"], datetime)


def test_each_function_keeps_its_latest_start(db: firestore.Client):
    starts = FirestoreFunctionStarts(db)
    name = f"fn-{uuid.uuid4().hex[:8]}"  # not a real function: the stack's own stay as they are
    first = datetime.now(UTC) - timedelta(minutes=5)
    starts.record(FunctionStart(function=name, version="0.1.0", started_at=first))
    later = first + timedelta(minutes=1)
    starts.record(FunctionStart(function=name, revision="r2", started_at=later))
    [latest] = [s for s in starts.latest() if s.function == name]
    assert (latest.revision, latest.version) == ("r2", None)


def test_tasks_failed_with_a_code_come_by_when_they_failed(db: firestore.Client):
    repo = FirestoreTaskRepository(db)
    code = 900_000 + uuid.uuid4().int % 99_999  # a code no other test's tasks fail with
    now = datetime.now(UTC)
    ids = []
    for created_ago, failed_ago in ((48, 1), (2, 1.5), (3, 26)):
        task = rules.new_task(task_id=uuid.uuid4().hex, tenant_id="t", payload={},
                              task_type=TaskType.GENERATE_NARRATION, waiting_on=[],
                              now=now - timedelta(hours=created_ago), deadline=timedelta(hours=1))
        repo.add(task)
        repo.update(task.id, lambda t, ago=failed_ago: rules.fail(
            t, TaskError(code=code, message="late"), now - timedelta(hours=ago)))
        ids.append(task.id)
    assert [t.id for t in repo.latest_failures(code=code, limit=10)] == ids
    assert [t.id for t in repo.latest_failures(code=code, limit=1)] == ids[:1]
    assert not set(ids) & {t.id for t in repo.latest_failures(code=DeadlineExceeded.code,
                                                                limit=1000)}


def test_the_emulator_reports_no_backlog():
    settings = stack_settings()
    scheduler = CloudTasksDeadlineScheduler.connect(
        settings.project_id, settings.region, settings.deadline_queue, settings.deadline_url,
        settings.tasks_emulator_host)
    backlog = scheduler.backlog()
    assert backlog.queue == settings.deadline_queue
    assert backlog.tasks is None and backlog.unavailable is not None


def test_the_task_list_windows_by_creation_time_with_cursors(db: firestore.Client):
    """The console's time filter: `created_since` and `created_before` bound the newest-first
    list of one tenant, its pages included, on the emulator's real cursors."""
    repo = FirestoreTaskRepository(db)
    tenant = f"t_{uuid.uuid4().hex[:12]}"
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for hour in range(6):
        repo.add(rules.new_task(task_id=f"{tenant}_{hour}", tenant_id=tenant,
                                task_type=TaskType.GENERATE_NARRATION, payload={},
                                waiting_on=[], now=start + timedelta(hours=hour),
                                deadline=timedelta(hours=1)))

    def window(since: int | None, before: int | None, limit: int = 10,
               after: str | None = None) -> tuple[list[str], str | None]:
        tasks, token = repo.list_all(
            tenant_id=tenant, limit=limit, after=after,
            created_since=None if since is None else start + timedelta(hours=since),
            created_before=None if before is None else start + timedelta(hours=before))
        return [t.id.rsplit("_", 1)[1] for t in tasks], token

    assert window(1, 4)[0] == ["3", "2", "1"]  # since included, before not
    assert window(None, 2)[0] == ["1", "0"]
    assert window(4, None)[0] == ["5", "4"]
    page, token = window(1, 5, limit=2)
    assert page == ["4", "3"] and token is not None
    assert window(1, 5, limit=2, after=token) == (["2", "1"], None)
