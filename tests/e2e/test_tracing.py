"""The trace of the API call that created a task is on every stage_worker line of that task.

The dataset is checked before the task is created: a task that waits for its upload is started
by on_upload, whose stage message carries no trace (the task does not record it).
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.stack import log_file, stack_settings, wait_until
from vss.bootstrap import ports_alone
from vss.domain.files import FileStatus
from vss.domain.paths import owner_id
from vss.edge.client import EdgeClient

pytestmark = pytest.mark.integration


def _lines(component: str, task_id: str) -> list[dict[str, object]]:
    text = log_file(component).read_text(errors="replace")
    return [json.loads(line) for line in text.splitlines()
            if line.startswith("{") and f'"task_id": "{task_id}"' in line]


def test_worker_logs_carry_the_trace_of_the_api_call(edge: EdgeClient, dataset_path: str):
    files = ports_alone(stack_settings()).files
    wait_until(lambda: (record := files.get(owner_id(dataset_path))) is not None
               and record.status == FileStatus.VALID, timeout=60)
    trace = uuid.uuid4().hex
    response = edge.session.post(
        f"{edge.base}/tasks/", headers={"X-Cloud-Trace-Context": f"{trace}/1;o=1"},
        json={"task_type": "GENERATE_NARRATION", "payload": {"blueprint_path": dataset_path}},
        timeout=30)
    assert response.status_code == 202, response.text
    task_id = response.json()["id"]
    assert edge.wait(task_id, timeout=120)["status"] == "COMPLETED"

    worker = wait_until(lambda: (lines := _lines("stage_worker", task_id))
                        and lines[-1]["message"] == "task COMPLETED" and lines, timeout=30)
    expected = f"projects/{stack_settings().project_id}/traces/{trace}"
    assert {line.get("logging.googleapis.com/trace") for line in worker} == {expected}
    api = _lines("api", task_id)
    assert api and {line.get("logging.googleapis.com/trace") for line in api} == {expected}
