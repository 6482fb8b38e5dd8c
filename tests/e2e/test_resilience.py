"""At-least-once delivery against the real stack: duplicates, a killed worker, dead letters,
deadlines through Cloud Tasks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from tests.conftest import BLUEPRINT, ROOT
from tests.stack import stack_settings, wait_until
from vss.bootstrap import bootstrap
from vss.domain.messages import StageMessage
from vss.edge.client import EdgeClient
from vss.service.tasks import publish_stage

pytestmark = pytest.mark.integration




def _narration_done(edge: EdgeClient, dataset_path: str) -> dict:
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset_path})
    done = edge.wait(task["id"], timeout=120)
    assert done["status"] == "COMPLETED", done["error"]
    return done


def test_duplicate_stage_messages_change_nothing(edge: EdgeClient, dataset_path: str):
    deps = bootstrap(stack_settings())
    done = _narration_done(edge, dataset_path)
    before = deps.tasks.get(done["id"])
    assert before is not None and before.current.attempts == 1
    for _ in range(3):
        publish_stage(deps, done["id"], before.current.stage)
    events = firestore.Client(project=deps.settings.project_id)
    # Wait until the worker has seen them: the stage_worker logs one "dropped" line each.
    log = ROOT / ".vss" / "logs" / "stage_worker.log"
    wait_until(lambda: log.read_text().count(f'"task_id": "{done["id"]}"') >= 4, timeout=30)
    after = deps.tasks.get(done["id"])
    assert after is not None
    assert after.modified == before.modified and after.current.attempts == 1
    assert events is not None


def _pid(name: str) -> int:
    return int((ROOT / ".vss" / "pids" / f"{name}.pid").read_text().split()[0])


def test_worker_killed_mid_stage_recovers_by_redelivery(edge: EdgeClient, dataset_path: str):
    narration = _narration_done(edge, dataset_path)
    task = edge.create_task("GENERATE_DUBBING", {
        "input_narration_path": narration["result"]["output_file_path"]})
    deps = bootstrap(stack_settings())
    wait_until(lambda: (t := deps.tasks.get(task["id"])) and t.current.state == "running",
               timeout=60, interval=0.05)
    os.killpg(_pid("stage_worker"), signal.SIGKILL)
    subprocess.run([sys.executable, "emulators/stack.py", "up"], cwd=ROOT, check=True,
                   capture_output=True)
    done = edge.wait(task["id"], timeout=240)
    assert done["status"] == "COMPLETED", done["error"]
    final = deps.tasks.get(task["id"])
    assert final is not None and final.current.attempts >= 2


def test_dead_lettered_stage_fails_the_task_with_its_cause(edge: EdgeClient, dataset_path: str):
    deps = bootstrap(stack_settings())
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset_path})
    edge.wait(task["id"], timeout=120)
    # Re-open the stage with a payload the engine cannot read: a bug, so every delivery
    # fails, is retried with backoff, and finally dead-letters.
    db = firestore.Client(project=deps.settings.project_id)
    db.collection("tasks").document(task["id"]).update({
        "status": "RUNNING", "current.state": "queued", "current.attempts": 0,
        "payload": {"blueprint_path": 42},
        "deadline_at": datetime.now(UTC) + timedelta(hours=1),
    })
    deps.publisher.publish(deps.settings.stages_topic, StageMessage(
        task_id=task["id"], stage="narration").model_dump_json().encode())
    done = edge.wait(task["id"], timeout=180)
    assert done["status"] == "FAILED"
    assert "ValidationError" in done["error"]["message"]
    assert done["error"]["details"]["attempts"] >= 2


def test_deadline_check_through_cloud_tasks_fails_a_stuck_task(edge: EdgeClient):
    deps = bootstrap(stack_settings())
    data = BLUEPRINT.read_bytes()
    signed = edge.session.post(f"{edge.base}/files/upload/", json={
        "filename": "never.json", "size": len(data)}).json()
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": signed["relative_path"]})
    past = datetime.now(UTC) - timedelta(seconds=1)
    firestore.Client(project=deps.settings.project_id).collection("tasks").document(
        task["id"]).update({"deadline_at": past})
    deps.deadlines.schedule(task["id"], past)
    done = edge.wait(task["id"], timeout=60)
    assert done["status"] == "FAILED" and done["error"]["code"] == 2004
    assert done["error"]["details"]["waiting_on"]
    assert json.dumps(done["error"])  # serialisable as the edge receives it
