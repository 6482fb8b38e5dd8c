"""The trace of the API request that created a task travels with its stage messages, and the
functions log under it: stage_worker and dead_letter are run as functions-framework serves
them (the Pub/Sub push body), over fakes."""

from __future__ import annotations

import base64
import contextvars
import sys
from datetime import UTC, datetime
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient

from tests.support.fakes import FakePublisher, fake_deps
from tests.support.logs import captured
from tests.support.paths import ROOT
from vss import events
from vss.api.app import create_app
from vss.deps import Deps
from vss.domain.tasks import Stage, TaskStatus
from vss.observability import current_trace
from vss.service import auth, tasks, uploads

TRACE = "0af7651916cd43dd8448eb211c80319c"


def function_client(
    name: str, target: str, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> FlaskClient:
    """functions/<name>/main.py served by functions-framework, its deps replaced by fakes."""
    monkeypatch.setattr(events, "init_function", lambda build, name=None: deps)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the framework appends the source dir
    monkeypatch.delitem(sys.modules, "main", raising=False)
    app = functions_framework.create_app(target, str(ROOT / "functions" / name / "main.py"),
                                         "cloudevent")
    monkeypatch.delitem(sys.modules, "main", raising=False)
    return app.test_client()


def push_body(data: bytes, attributes: dict[str, str]) -> dict[str, Any]:
    """What a Pub/Sub push subscription POSTs."""
    return {
        "message": {"data": base64.b64encode(data).decode(), "attributes": attributes,
                    "messageId": "1234", "publishTime": datetime.now(UTC).isoformat()},
        "subscription": "projects/vss-local/subscriptions/vss-stages-push",
    }


def _task_created_over_http(deps: Deps, blueprint: bytes, trace: str | None) -> str:
    record = uploads.store_upload(deps, "t1", "blueprint.json", blueprint)
    uploads.check_landed_object(deps, deps.settings.uploads_bucket,
                                f"tenants/t1/{record.relative_path}", record.generation)
    creds = auth.add_instance(deps, "t1")
    headers = {"X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key}
    if trace:
        headers["X-Cloud-Trace-Context"] = f"{trace}/1;o=1"
    api = create_app(deps).test_client()
    # A fresh context, as each request has in the server: nothing leaks into the worker below.
    response = contextvars.Context().run(api.post, "/api/v1/tasks/", headers=headers, json={
        "task_type": "GENERATE_NARRATION",
        "payload": {"blueprint_path": record.relative_path}})
    assert response.status_code == 202, response.get_json()
    return str(response.get_json()["id"])


def _run_worker(client: FlaskClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    context = contextvars.Context()
    with captured() as lines:
        response = context.run(client.post, "/", json=body)
        assert response.status_code == 200, response.text
    assert context.run(current_trace.get) is None  # reset after the event
    return lines


def test_stage_run_logs_under_the_trace_of_the_request_that_created_the_task(
    blueprint_bytes: bytes, monkeypatch: pytest.MonkeyPatch
):
    deps = fake_deps()
    task_id = _task_created_over_http(deps, blueprint_bytes, TRACE)
    assert isinstance(deps.publisher, FakePublisher)
    [(_, data, attributes)] = deps.publisher.published
    assert attributes == {"task_id": task_id, "stage": "narration", "trace": TRACE}

    lines = _run_worker(function_client("stage_worker", "stage_worker", deps, monkeypatch),
                        push_body(data, attributes))

    task = deps.tasks.get(task_id)
    assert task is not None and task.status == TaskStatus.COMPLETED
    assert [x["message"] for x in lines if x.get("task_id") == task_id][-1] == "task COMPLETED"
    assert {x.get("logging.googleapis.com/trace") for x in lines} == {
        f"projects/vss-local/traces/{TRACE}"}


def test_a_message_without_trace_logs_without_one(
    blueprint_bytes: bytes, monkeypatch: pytest.MonkeyPatch
):
    deps = fake_deps()
    task_id = _task_created_over_http(deps, blueprint_bytes, trace=None)
    assert isinstance(deps.publisher, FakePublisher)
    [(_, data, attributes)] = deps.publisher.published
    assert "trace" not in attributes

    lines = _run_worker(function_client("stage_worker", "stage_worker", deps, monkeypatch),
                        push_body(data, attributes))

    assert any(x.get("task_id") == task_id for x in lines)
    assert not any("logging.googleapis.com/trace" in x for x in lines)


def test_the_next_stage_message_keeps_the_trace_of_the_stage_that_published_it():
    deps = fake_deps()
    token = current_trace.set(TRACE)
    try:
        tasks.publish_stage(deps, "task-1", Stage.DUBBING)
    finally:
        current_trace.reset(token)
    assert isinstance(deps.publisher, FakePublisher)
    assert deps.publisher.published[0][2]["trace"] == TRACE


def test_dead_lettered_storage_event_is_logged_and_dropped(monkeypatch: pytest.MonkeyPatch):
    deps = fake_deps()
    client = function_client("dead_letter", "on_dead_letter", deps, monkeypatch)
    attributes = {"eventType": "OBJECT_FINALIZE", "bucketId": "vss-uploads",
                  "objectId": "tenants/t1/uploads/f1/poison.json", "payloadFormat": "JSON_API_V1"}

    lines = _run_worker(client, push_body(b"not an object resource", attributes))

    [line] = lines
    assert line["severity"] == "ERROR"
    assert line["message"] == (
        "storage event dead-lettered, dropped: "
        "gs://vss-uploads/tenants/t1/uploads/f1/poison.json (OBJECT_FINALIZE)")
    assert deps.tasks.waiting_on("f1") == []  # nothing to do: waiting tasks fail at their deadline
    [letter] = deps.dead_letters.since(deps.clock(), limit=10)  # kept for the console
    assert (letter.message_id, letter.kind, letter.tenant_id) == ("1234", "storage", "t1")
    assert letter.attributes == attributes


def test_a_task_started_by_its_upload_check_keeps_the_trace_of_its_api_call(
    blueprint_bytes: bytes,
):
    deps = fake_deps()
    record = uploads.store_upload(deps, "t1", "blueprint.json", blueprint_bytes)
    token = current_trace.set(TRACE)
    try:
        task = tasks.create_task(deps, "t1", tasks.CreateTask(
            task_type="GENERATE_NARRATION", payload={"blueprint_path": record.relative_path}))
    finally:
        current_trace.reset(token)
    assert task.waiting_on == [record.id] and task.trace == TRACE
    # The upload check runs later, in another function, under no trace of its own.
    uploads.check_landed_object(deps, deps.settings.uploads_bucket,
                                f"tenants/t1/{record.relative_path}", record.generation)
    assert isinstance(deps.publisher, FakePublisher)
    [(_, _, attributes)] = deps.publisher.published
    assert attributes["trace"] == TRACE
