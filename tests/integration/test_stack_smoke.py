"""The local stack (`emulators/stack.py up`) is provisioned and wired like production."""

from __future__ import annotations

import importlib.util
import json
import queue
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import pubsub_v1, storage, tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport
from werkzeug.serving import make_server

from tests.support.stack import ENV_FILE

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    if not ENV_FILE.exists():
        pytest.fail("The local stack is not running: run `make up` (make test does it).")
    pairs = (line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


@pytest.fixture()
def clients_env(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", env["PUBSUB_EMULATOR_HOST"])
    return env


def _storage(env: dict[str, str]) -> storage.Client:
    return storage.Client(
        project=env["VSS_PROJECT_ID"],
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": env["STORAGE_EMULATOR_HOST"]},
    )


def test_buckets_topics_subscriptions_and_queue_exist(clients_env: dict[str, str]) -> None:
    env = clients_env
    project = env["VSS_PROJECT_ID"]
    buckets = {b.name for b in _storage(env).list_buckets()}
    assert {env["VSS_UPLOADS_BUCKET"], env["VSS_ARTIFACTS_BUCKET"]} <= buckets

    topics = {
        t.name for t in pubsub_v1.PublisherClient().list_topics(project=f"projects/{project}")
    }
    for topic in ("vss-gcs-notifications", "vss-gcs-notifications-dead", "vss-stages",
                  "vss-stages-dead", "vss-segments", "vss-segments-dead"):
        assert f"projects/{project}/topics/{topic}" in topics

    subscriber = pubsub_v1.SubscriberClient()
    stages = subscriber.get_subscription(
        subscription=f"projects/{project}/subscriptions/vss-stages-push"
    )
    assert stages.push_config.push_endpoint.startswith("http://127.0.0.1:")
    assert (
        stages.dead_letter_policy.dead_letter_topic == f"projects/{project}/topics/vss-stages-dead"
    )
    assert stages.dead_letter_policy.max_delivery_attempts == 8
    assert stages.ack_deadline_seconds == 60
    # One message per dubbing segment, pushed to tts_worker by the push relay (a pull
    # subscription locally: the emulator would push two at a time), waited on as long as a
    # synthesis may take, and dead-lettered to its own topic.
    segments = subscriber.get_subscription(
        subscription=f"projects/{project}/subscriptions/vss-segments-push"
    )
    assert segments.topic == f"projects/{project}/topics/{env['VSS_SEGMENTS_TOPIC']}"
    assert segments.push_config.push_endpoint == ""
    with urllib.request.urlopen(env["VSS_PUSH_RELAY_URL"], timeout=5) as answer:
        assert "vss-segments-push" in json.load(answer)
    assert segments.dead_letter_policy.dead_letter_topic == (
        f"projects/{project}/topics/vss-segments-dead"
    )
    assert segments.dead_letter_policy.max_delivery_attempts == 8
    assert segments.ack_deadline_seconds == 150
    # A storage event that keeps failing is dead-lettered too, and reaches dead_letter.
    notifications = subscriber.get_subscription(
        subscription=f"projects/{project}/subscriptions/vss-gcs-notifications-push"
    )
    assert notifications.dead_letter_policy.dead_letter_topic == (
        f"projects/{project}/topics/vss-gcs-notifications-dead"
    )
    assert notifications.dead_letter_policy.max_delivery_attempts == 8
    dead_letter_push = {
        name: subscriber.get_subscription(
            subscription=f"projects/{project}/subscriptions/{name}"
        ).push_config.push_endpoint
        for name in (
            "vss-stages-dead-push", "vss-segments-dead-push", "vss-gcs-notifications-dead-push",
        )
    }
    assert len(set(dead_letter_push.values())) == 1

    channel = grpc.insecure_channel(env["VSS_TASKS_EMULATOR_HOST"])
    try:
        client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
        name = (
            f"projects/{project}/locations/{env['VSS_REGION']}/queues/{env['VSS_DEADLINE_QUEUE']}"
        )
        assert client.get_queue(name=name).name == name
    finally:
        channel.close()


class _Sink(BaseHTTPRequestHandler):
    received: queue.Queue[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.received.put(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _load_bridge() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "eventarc_bridge", ROOT / "emulators" / "eventarc_bridge.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def sink() -> Iterator[tuple[str, queue.Queue[tuple[dict[str, str], bytes]]]]:
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()
    handler = type("Sink", (_Sink,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", received
    server.shutdown()


@pytest.fixture()
def bridge(sink: tuple[str, Any]) -> Iterator[str]:
    """A second bridge, in-process, forwarding to the sink instead of on_upload."""
    server = make_server("127.0.0.1", 0, _load_bridge().create_app(sink[0]), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_upload_reaches_a_function_as_the_eventarc_cloud_event(
    clients_env: dict[str, str], sink: tuple[str, Any], bridge: str
) -> None:
    env = clients_env
    project = env["VSS_PROJECT_ID"]
    subscriber = pubsub_v1.SubscriberClient()
    # The Pub/Sub emulator cannot be reset: a fresh subscription per run.
    subscription = f"projects/{project}/subscriptions/smoke-{uuid.uuid4().hex[:8]}"
    subscriber.create_subscription(
        request={
            "name": subscription,
            "topic": f"projects/{project}/topics/vss-gcs-notifications",
            "push_config": {"push_endpoint": bridge},
        }
    )
    try:
        blob = (
            _storage(env).bucket(env["VSS_UPLOADS_BUCKET"]).blob(f"smoke/{uuid.uuid4().hex}.json")
        )
        blob.upload_from_string(b'{"ok": true}', content_type="application/json")
        headers, body = _next_event_for(sink[1], blob.name)
    finally:
        subscriber.delete_subscription(subscription=subscription)

    bucket = env["VSS_UPLOADS_BUCKET"]
    assert headers["ce-type"] == "google.cloud.storage.object.v1.finalized"
    assert headers["ce-source"] == f"//storage.googleapis.com/projects/_/buckets/{bucket}"
    assert headers["ce-subject"] == f"objects/{blob.name}"
    assert headers["ce-specversion"] == "1.0" and headers["ce-id"] and headers["ce-time"]
    assert headers["content-type"].startswith("application/json")
    data = json.loads(body)
    assert data["bucket"] == bucket and data["name"] == blob.name
    assert data["size"] == "12" and data["contentType"] == "application/json"
    assert data["md5Hash"] == blob.md5_hash and data["generation"] == str(blob.generation)


def test_only_the_uploads_bucket_raises_events(
    clients_env: dict[str, str], sink: tuple[str, Any], bridge: str
) -> None:
    """As production's trigger, which watches the uploads bucket alone: the artifacts a task
    writes (a WAV per dubbing segment) cost no notification and no call of on_upload."""
    env = clients_env
    project = env["VSS_PROJECT_ID"]
    subscriber = pubsub_v1.SubscriberClient()
    subscription = f"projects/{project}/subscriptions/smoke-{uuid.uuid4().hex[:8]}"
    subscriber.create_subscription(request={
        "name": subscription, "topic": f"projects/{project}/topics/vss-gcs-notifications",
        "push_config": {"push_endpoint": bridge}})
    name = f"smoke/{uuid.uuid4().hex}"
    try:
        for bucket in (env["VSS_ARTIFACTS_BUCKET"], env["VSS_UPLOADS_BUCKET"]):
            _storage(env).bucket(bucket).blob(name).upload_from_string(b"{}")
        _next_event_for(sink[1], name)  # the upload's
        time.sleep(1.0)  # long enough for a second event to follow
    finally:
        subscriber.delete_subscription(subscription=subscription)
    later = [json.loads(body) for _, body in _drained(sink[1])]
    assert [event["bucket"] for event in later if event.get("name") == name] == []


def _drained(received: queue.Queue[tuple[dict[str, str], bytes]]
               ) -> Iterator[tuple[dict[str, str], bytes]]:
    while True:
        try:
            yield received.get_nowait()
        except queue.Empty:
            return


def _next_event_for(
    received: queue.Queue[tuple[dict[str, str], bytes]], name: str
) -> tuple[dict[str, str], bytes]:
    # Other tests may upload at the same time; their events reach this sink too.
    while True:
        headers, body = received.get(timeout=30)
        if json.loads(body).get("name") == name:
            return headers, body
