"""Faults under load: while several edges run the whole commentary workflow at once, every
function process is killed and restarted in turn (api, on_upload, stage_worker, tts_worker,
deadline, dead_letter) and the Pub/Sub emulator is paused for a few seconds. Every task ends
COMPLETED, or FAILED with its cause and then COMPLETED after one resume; none is left running;
every artifact matches the sha256 and size its result records.

The edges retry what any edge retries (no answer, 429, 5xx) with one Idempotency-Key per task,
as `vss run` does, so a request the dead API never answered is not a second task.

Killing the upload function can lose an upload's storage event (the emulated Eventarc does not
deliver it again in time): the task's watchdog then runs the upload's check itself, which
`test_a_lost_upload_event_is_made_up_by_the_watchdog` proves on its own.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import pytest

from tests.support.paths import DATA
from tests.support.stack import (
    function_pid,
    log_file,
    logged_since,
    new_tenant,
    restart_stack,
    stack_settings,
)
from vss.edge.backoff import Backoff
from vss.edge.client import EdgeClient, retry_call
from vss.edge.run import recorded_artifacts

pytestmark = [pytest.mark.integration, pytest.mark.disruptive]
T = TypeVar("T")

EDGES, WORKFLOWS = 4, 2
FUNCTIONS = ("api", "on_upload", "stage_worker", "tts_worker", "deadline", "dead_letter")
PUBSUB_PAUSE_SECONDS = 4.0
# A process killed inside a Firestore transaction leaves its locks in the emulator for about
# 5 minutes (production expires an idle transaction after 60 s): a task whose document a
# killed worker held waits that long (emulators/README.md).
TASK_TIMEOUT = 480.0
DATASET = DATA / "narrative_dataset_small.json"


def _retried(call: Callable[[], T]) -> T:
    return retry_call(call, attempts=30, backoff=Backoff(initial=0.5, maximum=3.0),
                      sleep=time.sleep)


def _wait(edge: EdgeClient, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + TASK_TIMEOUT
    while time.monotonic() < deadline:
        task = _retried(lambda: edge.get_task(task_id))
        if task["status"] in ("COMPLETED", "FAILED", "CANCELED"):
            return task
        time.sleep(1.0)
    raise AssertionError(f"task {task_id} still {task['status']} after {TASK_TIMEOUT:.0f} s")


def _workflows(edge: EdgeClient, created: list[tuple[EdgeClient, str]],
               problems: list[str]) -> None:
    """One edge: upload, create, wait, WORKFLOWS times (the checks come after the faults)."""
    try:
        for _ in range(WORKFLOWS):
            dataset = _retried(lambda: edge.upload(DATASET))["relative_path"]
            task = _retried(partial(edge.create_task, "GENERATE_COMMENTARY", {
                "blueprint_path": dataset,
                "narration": {"control_params": {"target_duration_minutes": 1}}},
                idempotency_key=str(uuid.uuid4())))
            created.append((edge, task["id"]))
            _wait(edge, task["id"])
    except Exception as exc:  # reported by the test, with the others
        problems.append(f"{type(exc).__name__}: {exc}")


def _faults() -> None:
    """Each function killed and restarted in turn, then the Pub/Sub emulator paused."""
    for name in FUNCTIONS:
        os.killpg(function_pid(name), signal.SIGKILL)
        restart_stack()
        time.sleep(1.0)
    os.killpg(function_pid("pubsub"), signal.SIGSTOP)
    try:
        time.sleep(PUBSUB_PAUSE_SECONDS)
    finally:
        os.killpg(function_pid("pubsub"), signal.SIGCONT)


def _verified(edge: EdgeClient, task: dict[str, Any]) -> None:
    artifacts = recorded_artifacts(task["results"])
    assert artifacts, task["id"]
    for path, recorded in artifacts.items():
        data = _retried(partial(edge.download_path, path))
        assert (hashlib.sha256(data).hexdigest(), len(data)) == \
            (recorded["sha256"], recorded["size"]), (task["id"], path)


def test_a_lost_upload_event_is_made_up_by_the_watchdog():
    """The upload function frozen while a dataset lands: its task waits, and its watchdog (the
    deadline function) checks the upload itself; the late event then changes nothing."""
    edge = new_tenant()[0]
    watchdog = stack_settings().watchdog_seconds
    offset = log_file("deadline").stat().st_size
    os.killpg(function_pid("on_upload"), signal.SIGSTOP)
    try:
        dataset = edge.upload(DATASET)["relative_path"]
        task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset})
        assert task["status"] == "PENDING"
        done = edge.wait(task["id"], timeout=watchdog * 4 + 60)
    finally:
        os.killpg(function_pid("on_upload"), signal.SIGCONT)
    assert done["status"] == "COMPLETED", done["error"]
    assert any("its storage event did not come" in line
               for line in logged_since("deadline", offset))


@pytest.mark.timeout(1500)
def test_tasks_survive_every_function_killed_and_pubsub_paused_under_load():
    edges = [new_tenant()[0] for _ in range(EDGES)]
    created: list[tuple[EdgeClient, str]] = []
    problems: list[str] = []
    threads = [threading.Thread(target=_workflows, args=(edge, created, problems))
               for edge in edges]
    for thread in threads:
        thread.start()
    try:
        _faults()
    finally:
        for thread in threads:
            thread.join(timeout=TASK_TIMEOUT * WORKFLOWS)
    assert problems == []
    assert len(created) == EDGES * WORKFLOWS

    resumed = 0
    for edge, task_id in created:
        task = _wait(edge, task_id)
        if task["status"] == "FAILED":  # with its cause, and one resume finishes it
            assert task["error"]["code"] and task["error"]["message"], task["error"]
            _retried(partial(edge.resume_task, task_id))
            resumed += 1
            task = _wait(edge, task_id)
        assert task["status"] == "COMPLETED", (task_id, task.get("error"))
        _verified(edge, task)
    assert resumed <= len(created) // 2, f"{resumed} tasks needed a resume"
