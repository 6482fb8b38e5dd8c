"""Building blocks for tests of the service layer: a checked upload, a created task."""

from __future__ import annotations

from datetime import date

from vss.deps import Deps
from vss.domain.files import FileStatus
from vss.domain.messages import SegmentMessage
from vss.domain.segments import Segment
from vss.domain.tasks import Task
from vss.domain.usage import NO_USAGE, Usage
from vss.service import tasks, uploads


def segments_of(deps: Deps, task_id: str) -> list[Segment]:
    """The segments of the task's plan (the one whose commit won), in index order; [] while
    the task has none."""
    task = deps.tasks.get(task_id)
    assert task is not None
    return deps.segments.list_for_task(task_id, task.progress.plan) if task.progress else []


def segment_message(deps: Deps, task_id: str, index: int) -> SegmentMessage:
    """The message that asks for segment `index` of the task's plan."""
    task = deps.tasks.get(task_id)
    assert task is not None and task.progress is not None
    return SegmentMessage(task_id=task_id, plan=task.progress.plan, index=index)


def valid_dataset(deps: Deps, data: bytes, tenant: str = "t1") -> str:
    """Upload `data` and run the upload check on it; the relative path of the VALID file."""
    record = uploads.store_upload(deps, tenant, "blueprint.json", data)
    bucket = deps.settings.uploads_bucket
    checked = uploads.check_landed_object(deps, bucket, f"tenants/{tenant}/{record.relative_path}",
                                          record.generation)
    assert checked is not None and checked.status == FileStatus.VALID
    return record.relative_path


def narration_task(deps: Deps, path: str, tenant: str = "t1") -> Task:
    body = tasks.CreateTask(task_type="GENERATE_NARRATION", payload={"blueprint_path": path})
    return tasks.create_task(deps, tenant, body)


def deliver_published(deps: Deps, start: int = 0) -> int:
    """Deliver every message published on the fake publisher from index `start` on (and those
    they publish in turn), as the push subscriptions would: stage messages to the stage runner,
    segment messages to the TTS worker. A delivery that raises RetryableError is nacked: skipped
    here (a test redelivers it when it wants to). Returns the index after the last one."""
    from tests.support.fakes import FakePublisher
    from vss.domain.messages import SegmentMessage, StageMessage
    from vss.errors import RetryableError
    from vss.service import segments, stages

    publisher = deps.publisher
    assert isinstance(publisher, FakePublisher)
    cursor = start
    while cursor < len(publisher.published):
        topic, data, _ = publisher.published[cursor]
        cursor += 1
        try:
            if topic == deps.settings.stages_topic:
                stages.run_stage(deps, StageMessage.model_validate_json(data))
            elif topic == deps.settings.segments_topic:
                segments.run_segment(deps, SegmentMessage.model_validate_json(data))
        except RetryableError:
            continue
    return cursor


def assert_ledger_holds_what_tasks_were_charged(deps: Deps) -> None:
    """Every attempt's spend reached its tenant's day in the usage ledger exactly once: per
    tenant, the ledger's days add up to what the tenant's tasks were charged."""
    stored, _ = deps.tasks.list_all(limit=10_000)
    charged: dict[str, Usage] = {}
    for task in stored:
        if not task.spent.is_zero:
            charged[task.tenant_id] = charged.get(task.tenant_id, NO_USAGE) + task.spent
    ledger: dict[str, Usage] = {}
    for day in deps.usage.days(date(2000, 1, 1), date(2100, 1, 1)):
        if day.usage.is_zero:  # a day of uploads alone
            continue
        ledger[day.tenant_id] = ledger.get(day.tenant_id, NO_USAGE) + day.usage
    assert ledger.keys() == charged.keys()
    for tenant, usage in charged.items():
        # Sums of floats in another order: the cost to a millionth of a dollar.
        assert ledger[tenant].model_copy(update={"cost_usd": 0.0}) == \
            usage.model_copy(update={"cost_usd": 0.0})
        assert abs(ledger[tenant].cost_usd - usage.cost_usd) < 1e-6
