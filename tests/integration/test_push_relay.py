"""The push relay against the real Pub/Sub emulator: it pushes a pull subscription's messages
with as many requests in flight as its window, in the envelope Pub/Sub pushes, acks what the
endpoint accepts and nacks the rest, which the emulator redelivers and dead-letters."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.cloud import pubsub_v1
from google.protobuf import duration_pb2

from emulators.push_relay import Deliverer, Relay
from tests.support.stack import stack_env, wait_until
from vss.adapters.pubsub import PubSubPublisher

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:The return_immediately flag is deprecated")]


class Endpoint:
    """A loopback push endpoint that holds each request `hold_s` and refuses bodies whose
    data is b"refuse"."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = self.peak = 0
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with endpoint._lock:
                    endpoint.bodies.append(body)
                    endpoint.in_flight += 1
                    endpoint.peak = max(endpoint.peak, endpoint.in_flight)
                time.sleep(endpoint.hold_s)
                with endpoint._lock:
                    endpoint.in_flight -= 1
                refused = base64.b64decode(body["message"]["data"]) == b"refuse"
                self.send_response(500 if refused else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def subscription() -> Iterator[tuple[str, str, str]]:
    """(project, topic path, subscription name): a pull subscription dead-lettering after 2
    deliveries, and the dead-letter topic's own subscription."""
    project = stack_env()["GOOGLE_CLOUD_PROJECT"]
    name = f"relay-{uuid.uuid4().hex[:8]}"
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic, dead = publisher.topic_path(project, name), publisher.topic_path(project, name + "-dead")
    for path in (topic, dead):
        publisher.create_topic(name=path)
    subscriber.create_subscription(request={
        "name": subscriber.subscription_path(project, name + "-dead"), "topic": dead})
    subscriber.create_subscription(request={
        "name": subscriber.subscription_path(project, name), "topic": topic,
        "ack_deadline_seconds": 30,
        "retry_policy": {"minimum_backoff": duration_pb2.Duration(seconds=1)},
        "dead_letter_policy": {"dead_letter_topic": dead, "max_delivery_attempts": 5}})
    yield project, topic, name
    for sub in (name, name + "-dead"):
        subscriber.delete_subscription(subscription=subscriber.subscription_path(project, sub))
    for path in (topic, dead):
        publisher.delete_topic(topic=path)


def test_the_relay_pushes_its_window_at_once_in_the_push_envelope(subscription):
    project, _, name = subscription
    endpoint = Endpoint(hold_s=0.5)
    relay = Deliverer(project, Relay(name, endpoint.url, window=4, ack_deadline_seconds=30))
    relay.start()
    try:
        # Published together, as a fan-out publishes its segments (our adapter).
        ids = PubSubPublisher(project).publish_all(
            name, [(f"m{i}".encode(), {"index": str(i)}) for i in range(12)])
        wait_until(lambda: relay.counters.acked == 12, timeout=30, interval=0.1)
    finally:
        relay.stop()
    assert endpoint.peak == 4 == relay.counters.peak  # the window, not the emulator's two
    first = endpoint.bodies[0]
    assert first["subscription"] == f"projects/{project}/subscriptions/{name}"
    message = first["message"]
    assert message["messageId"] == message["message_id"] and message["publishTime"]
    assert {base64.b64decode(b["message"]["data"]) for b in endpoint.bodies} == {
        f"m{i}".encode() for i in range(12)}
    assert {b["message"]["attributes"]["index"] for b in endpoint.bodies} == {
        str(i) for i in range(12)}
    assert sorted(b["message"]["messageId"] for b in endpoint.bodies) == sorted(ids)


def test_a_refused_push_is_redelivered_then_dead_lettered(subscription):
    project, topic, name = subscription
    endpoint = Endpoint(hold_s=0.0)
    relay = Deliverer(project, Relay(name, endpoint.url, window=2, ack_deadline_seconds=30))
    subscriber = pubsub_v1.SubscriberClient()
    dead_letters = subscriber.subscription_path(project, name + "-dead")
    relay.start()
    try:
        pubsub_v1.PublisherClient().publish(topic, b"refuse").result()
        dead = wait_until(lambda: subscriber.pull(request={
            "subscription": dead_letters, "max_messages": 1, "return_immediately": True},
            timeout=10).received_messages, timeout=60, interval=0.5)
    finally:
        relay.stop()
    assert dead[0].message.data == b"refuse"
    attempts = [b.get("deliveryAttempt") for b in endpoint.bodies]
    assert attempts == [1, 2, 3, 4, 5] and relay.counters.nacked == 5
