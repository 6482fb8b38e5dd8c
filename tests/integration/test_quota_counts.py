"""The quota counts on the Firestore emulator: a tenant's running tasks and the tasks of its
last hour are counted from the task documents (aggregation queries), other tenants' and
finished tasks aside; a tenant's quota overrides are changed in a transaction on its document."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from tests.support.stack import stack_settings
from vss.adapters.firestore_repos import FirestoreTaskRepository, FirestoreTenantRepository
from vss.domain import tasks as rules
from vss.domain.files import Tenant
from vss.domain.quotas import Quota, QuotaOverrides
from vss.domain.tasks import Stage, Task, TaskType
from vss.errors import NotFound

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def db() -> firestore.Client:
    return firestore.Client(project=stack_settings().project_id)


def _tenant() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


def _task(tenant_id: str, created: datetime) -> Task:
    return rules.new_task(
        task_id=uuid.uuid4().hex, tenant_id=tenant_id, task_type=TaskType.GENERATE_NARRATION,
        payload={"blueprint_path": "uploads/x/b.json"}, waiting_on=[], now=created,
        deadline=timedelta(minutes=30))


def test_running_tasks_are_the_tenants_pending_and_running_ones(db: firestore.Client):
    repo, tenant, other = FirestoreTaskRepository(db), _tenant(), _tenant()
    now = datetime.now(UTC)
    pending, running, canceled = (_task(tenant, now) for _ in range(3))
    running = rules.claim(running, Stage.NARRATION, "a1", now, timedelta(minutes=1))
    canceled = rules.cancel(canceled, now)
    for task in (pending, running, canceled, _task(other, now)):
        repo.add(task)
    assert repo.count_active(tenant) == 2
    assert repo.count_active(other) == 1
    assert repo.count_active(_tenant()) == 0


def test_the_last_hour_is_counted_and_its_oldest_task_found(db: firestore.Client):
    repo, tenant = FirestoreTaskRepository(db), _tenant()
    now = datetime.now(UTC)
    for minutes in (90, 60, 45, 10, 0):
        repo.add(_task(tenant, now - timedelta(minutes=minutes)))
    repo.add(_task(_tenant(), now))
    hour_ago = now - timedelta(hours=1)
    assert repo.count_created_after(tenant, hour_ago) == 3  # the task of exactly then is out
    assert repo.oldest_created_after(tenant, hour_ago) == now - timedelta(minutes=45)
    assert repo.oldest_created_after(tenant, now) is None
    assert repo.count_created_after(_tenant(), hour_ago) == 0


def test_quota_overrides_are_changed_on_the_tenants_document(db: firestore.Client):
    repo, tenant_id = FirestoreTenantRepository(db), _tenant()
    repo.add_tenant(Tenant(id=tenant_id, name="Acme", created=datetime.now(UTC)))
    changed = repo.update_quotas(tenant_id, lambda q: q.changed(
        {Quota.RUNNING_TASKS: 3, Quota.TASKS_PER_HOUR: "unlimited"}))
    assert changed.quotas == QuotaOverrides(running_tasks=3, tasks_per_hour="unlimited")
    stored = repo.get_tenant(tenant_id)
    assert stored is not None and stored.quotas == changed.quotas
    repo.update_quotas(tenant_id, lambda q: q.changed({Quota.RUNNING_TASKS: None}))
    stored = repo.get_tenant(tenant_id)
    assert stored is not None and stored.quotas == QuotaOverrides(tasks_per_hour="unlimited")
    with pytest.raises(NotFound):
        repo.update_quotas(_tenant(), lambda q: q)
