"""Building blocks for tests of the service layer: a checked upload, a created task."""

from __future__ import annotations

from vss.deps import Deps
from vss.domain.files import FileStatus
from vss.domain.tasks import Task
from vss.service import tasks, uploads


def valid_dataset(deps: Deps, data: bytes, tenant: str = "t1") -> str:
    """Upload `data` and run the upload check on it; the relative path of the VALID file."""
    record = uploads.store_upload(deps, tenant, "blueprint.json", data)
    bucket = deps.settings.uploads_bucket
    checked = uploads.check_landed_object(deps, bucket, f"tenants/{tenant}/{record.relative_path}")
    assert checked is not None and checked.status == FileStatus.VALID
    return record.relative_path


def narration_task(deps: Deps, path: str, tenant: str = "t1") -> Task:
    body = tasks.CreateTask(task_type="GENERATE_NARRATION", payload={"blueprint_path": path})
    return tasks.create_task(deps, tenant, body)
