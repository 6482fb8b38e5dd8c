"""At-least-once delivery against the real stack: duplicates (of a finished and of a running
stage), a killed worker, dead letters (stage messages and storage events), deadlines through
Cloud Tasks."""

from __future__ import annotations

import json
import os
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.cloud import firestore, pubsub_v1

from tests.support.paths import BLUEPRINT
from tests.support.stack import (
    function_pid,
    log_file,
    logged_since,
    restart_stack,
    stack_settings,
    wait_until,
)
from tests.support.synthetic import synthetic_blueprint
from vss.bootstrap import ports_alone
from vss.deps import Deps
from vss.domain.messages import StageMessage
from vss.domain.tasks import Stage
from vss.edge.client import EdgeClient
from vss.errors import FileIoError, PayloadInvalid
from vss.service.tasks import publish_stage

pytestmark = pytest.mark.integration


def _log_lines(component: str, *needles: str, since: int = 0) -> list[str]:
    """Lines of a component's log holding every needle, from byte `since` on (the logs grow
    across runs of the stack, and the emulator numbers its messages from 1 again)."""
    with log_file(component).open("rb") as log:
        log.seek(since)
        text = log.read().decode(errors="replace")
    return [line for line in text.splitlines() if all(n in line for n in needles)]


def _log_size(component: str) -> int:
    path = log_file(component)
    return path.stat().st_size if path.exists() else 0


def _worker_said(task_id: str, message: str) -> int:
    return len(_log_lines("stage_worker", f'"message": "{message}"', f'"task_id": "{task_id}"'))


def _narration_done(edge: EdgeClient, dataset_path: str) -> dict:
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset_path})
    done = edge.wait(task["id"], timeout=120)
    assert done["status"] == "COMPLETED", done["error"]
    return done


def test_duplicate_stage_messages_change_nothing(edge: EdgeClient, dataset_path: str):
    deps = ports_alone(stack_settings())
    done = _narration_done(edge, dataset_path)
    before = deps.tasks.get(done["id"])
    assert before is not None and before.current.attempts == 1
    for _ in range(3):
        publish_stage(deps, done["id"], before.current.stage)
    # The worker saw each duplicate and dropped it: one "dropped" line each, no second run.
    wait_until(lambda: _worker_said(done["id"], "stage message dropped: closed") >= 3,
               timeout=30)
    after = deps.tasks.get(done["id"])
    assert after is not None
    assert after.modified == before.modified and after.current.attempts == 1
    assert _worker_said(done["id"], "stage message dropped: closed") == 3
    assert _worker_said(done["id"], "task RUNNING") == 1


def test_twin_of_a_running_stage_is_sent_back_not_run(edge: EdgeClient, dataset_path: str):
    deps = ports_alone(stack_settings())
    done = _narration_done(edge, dataset_path)
    ref = firestore.Client(project=deps.settings.project_id).collection("tasks").document(
        done["id"])
    finished = ref.get().to_dict()
    # The stage as a live worker holds it: RUNNING, its lease renewed while the handler runs.
    ref.update({"status": "RUNNING", "current.state": "running",
                "current.lease_until": datetime.now(UTC) + timedelta(minutes=10)})
    running = deps.tasks.get(done["id"])
    assert running is not None

    logged_before = log_file("stage_worker").stat().st_size
    publish_stage(deps, done["id"], Stage.NARRATION)  # the twin
    # Sent back (500), so Pub/Sub redelivers it with backoff, and sent back again.
    sent_back = "stage message sent back: the stage is running elsewhere"
    wait_until(lambda: _worker_said(done["id"], sent_back) >= 2, timeout=60)
    # A handled race: warnings, never an ERROR with a traceback.
    lines = logged_since("stage_worker", logged_before)
    assert any("sent back for a later delivery" in line for line in lines)
    assert not [line for line in lines if '"severity": "ERROR"' in line]
    assert deps.tasks.get(done["id"]) == running  # the handler did not run, nothing changed

    # The live stage finishes; a delivery of the twin from now on is dropped as closed. When
    # that delivery comes is the emulator's business: after a burst of failed pushes (a test
    # that killed a worker) it holds a nacked message for minutes, so it is not waited for.
    # (A duplicate of a finished stage is dropped: test_duplicate_stage_messages_change_nothing.)
    ref.set(finished)
    after = deps.tasks.get(done["id"])
    assert after is not None and after.status == "COMPLETED"
    assert after.current.attempts == 1 and after.main_result.as_seed_result() == done["result"]
    assert _worker_said(done["id"], "task RUNNING") == 1


def test_worker_killed_mid_stage_recovers_by_redelivery(edge: EdgeClient, tmp_path: Path):
    # A long series, so the narration stage runs long enough to be killed mid-way.
    series = tmp_path / "series.json"
    series.write_bytes(synthetic_blueprint(3000))
    dataset = edge.upload(series)["relative_path"]
    task = edge.create_task("GENERATE_NARRATION", {
        "blueprint_path": dataset,
        "service_params": {"control_params": {"target_duration_minutes": 30}}})
    deps = ports_alone(stack_settings())
    wait_until(lambda: (t := deps.tasks.get(task["id"])) and t.current.state == "running",
               timeout=60, interval=0.05)
    os.killpg(function_pid("stage_worker"), signal.SIGKILL)
    restart_stack()
    done = edge.wait(task["id"], timeout=240)
    assert done["status"] == "COMPLETED", done["error"]
    final = deps.tasks.get(task["id"])
    assert final is not None and final.current.attempts >= 2


def _reopen(deps: Deps, task_id: str, **fields: object) -> None:
    """Put a finished task back in its stage, as if a stage were still to run."""
    db = firestore.Client(project=deps.settings.project_id)
    db.collection("tasks").document(task_id).update({
        "status": "RUNNING", "current.state": "queued", "current.attempts": 0,
        "deadline_at": datetime.now(UTC) + timedelta(hours=1), **fields,
    })


def test_corrupted_stage_inputs_fail_the_task_at_once(edge: EdgeClient, dataset_path: str):
    deps = ports_alone(stack_settings())
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset_path})
    edge.wait(task["id"], timeout=120)
    # A payload the stage cannot read: no retry can help, so no retries are spent.
    _reopen(deps, task["id"], payload={"blueprint_path": 42})
    deps.publisher.publish(deps.settings.stages_topic, StageMessage(
        task_id=task["id"], stage="narration").model_dump_json().encode())
    done = edge.wait(task["id"], timeout=120)
    assert done["status"] == "FAILED"
    assert done["error"]["code"] == PayloadInvalid.code
    assert [e["pointer"] for e in done["error"]["details"]["errors"]] == [
        "/payload/blueprint_path"]
    stored = deps.tasks.get(task["id"])
    assert stored is not None and stored.current.attempts == 1


def test_dead_lettered_stage_fails_the_task_with_its_cause(edge: EdgeClient, dataset_path: str):
    deps = ports_alone(stack_settings())
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset_path})
    edge.wait(task["id"], timeout=120)
    # A stage whose deliveries kept failing (the cause of the last one recorded) ran out of
    # attempts: Pub/Sub forwards the message to the dead-letter topic.
    cause = FileIoError("Reading the dataset failed: 503 from storage")
    _reopen(deps, task["id"], **{"current.attempts": 8, "current.last_error": {
        "code": cause.code, "message": cause.message, "details": {}}})
    deps.publisher.publish(f"{deps.settings.stages_topic}-dead", StageMessage(
        task_id=task["id"], stage="narration").model_dump_json().encode())
    done = edge.wait(task["id"], timeout=120)
    assert done["status"] == "FAILED"
    assert done["error"]["code"] == FileIoError.code
    assert "after 8 attempts" in done["error"]["message"]
    assert "503 from storage" in done["error"]["message"]


def test_storage_event_that_keeps_failing_is_dead_lettered_and_dropped():
    settings = stack_settings()
    publisher = pubsub_v1.PublisherClient()
    name = f"tenants/t_poison/uploads/{uuid.uuid4().hex}/poison.json"
    since = _log_size("eventarc_bridge")
    # A finalize notification the bridge cannot read: every delivery is refused (400).
    message_id = publisher.publish(
        publisher.topic_path(settings.project_id, "vss-gcs-notifications"), b"not base64 JSON",
        eventType="OBJECT_FINALIZE", bucketId=settings.uploads_bucket, objectId=name,
        payloadFormat="JSON_API_V1",
    ).result(timeout=30)
    dropped = f"storage event dead-lettered, dropped: gs://{settings.uploads_bucket}/{name}"
    wait_until(lambda: _log_lines("dead_letter", dropped), timeout=150, interval=1)
    refused = _log_lines("eventarc_bridge", f"rejected message {message_id}:", since=since)
    assert 2 <= len(refused) <= 8  # retried with backoff, then no more after 8 attempts


def test_deadline_check_through_cloud_tasks_fails_a_stuck_task(edge: EdgeClient):
    deps = ports_alone(stack_settings())
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


def test_a_check_that_comes_early_has_a_successor_that_fails_the_task(edge: EdgeClient):
    """A check that runs before its task's deadline (clocks drift, queues deliver early)
    schedules the next one; in the same second as the deadline, that one used to take the
    name of the check being run, which Cloud Tasks refuses, and the task was left unchecked."""
    deps = ports_alone(stack_settings())
    data = BLUEPRINT.read_bytes()
    signed = edge.session.post(f"{edge.base}/files/upload/", json={
        "filename": "never.json", "size": len(data)}).json()
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": signed["relative_path"]})
    now = datetime.now(UTC)
    deadline = now.replace(microsecond=900_000) + timedelta(seconds=3)
    firestore.Client(project=deps.settings.project_id).collection("tasks").document(
        task["id"]).update({"deadline_at": deadline})
    deps.deadlines.schedule(task["id"], deadline - timedelta(seconds=0.6))  # early
    done = edge.wait(task["id"], timeout=60)
    assert done["status"] == "FAILED" and done["error"]["code"] == 2004
    checks = _log_lines("deadline", "task FAILED: deadline exceeded", task["id"])
    assert len(checks) == 1
