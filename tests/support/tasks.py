"""Building blocks for tests of the service layer: a checked upload, a created task."""

from __future__ import annotations

from vss.deps import Deps
from vss.domain.files import FileStatus
from vss.domain.messages import SegmentMessage
from vss.domain.segments import Segment
from vss.domain.tasks import Task
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
