"""Local stand-in for Pub/Sub push delivery at the endpoint's own concurrency.

The Pub/Sub emulator pushes each subscription's messages through two serial loops, so an
endpoint never sees more than two requests at once, whatever it serves. Production Pub/Sub
widens its push window while the endpoint answers 2xx and narrows it on errors, so a Cloud Run
service gets as many requests at once as it accepts (the TTS worker: `VSS_TTS_CONCURRENCY`).
The relay reads a pull subscription of the emulator with the real client library (streaming
pull, at most WINDOW messages outstanding) and POSTs each message to the endpoint in the push
envelope the emulator and production send. A 2xx acks it; anything else, or no answer within
the subscription's ack deadline, nacks it, and the emulator's retry and dead-letter policies
apply as they do to a push.

    .venv/bin/python emulators/push_relay.py --port 8088 --project P \\
        --relay vss-segments-push=http://127.0.0.1:8095/=4=150

`GET /` answers each relayed subscription's counters as JSON (in flight, peak, acked, nacked).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from google.cloud import pubsub_v1
from google.cloud.pubsub_v1.subscriber.message import Message
from google.cloud.pubsub_v1.subscriber.scheduler import ThreadScheduler

log = logging.getLogger("push_relay")


@dataclass(frozen=True)
class Relay:
    """One subscription delivered to `endpoint` with at most `window` pushes in flight."""

    subscription: str
    endpoint: str
    window: int
    ack_deadline_seconds: int

    @classmethod
    def parse(cls, spec: str) -> Relay:
        """SUBSCRIPTION=ENDPOINT=WINDOW=ACK_DEADLINE_SECONDS"""
        name, endpoint, window, deadline = spec.rsplit("=", 3)
        return cls(name, endpoint, int(window), int(deadline))


@dataclass
class Counters:
    in_flight: int = 0
    peak: int = 0
    acked: int = 0
    nacked: int = 0


def envelope(message: Message, subscription_path: str) -> dict[str, Any]:
    """The JSON body Pub/Sub pushes: the message with both spellings of its id and publish
    time (as the emulator and production send them), the subscription and, because the
    subscription has a dead-letter policy, the delivery attempt."""
    published = _push_time(message.publish_time)
    body: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": dict(message.attributes),
            "messageId": message.message_id, "message_id": message.message_id,
            "publishTime": published, "publish_time": published,
        },
        "subscription": subscription_path,
    }
    if message.delivery_attempt is not None:
        body["deliveryAttempt"] = message.delivery_attempt
    return body


def _push_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class Deliverer:
    """Pushes one relay's messages and keeps its counters."""

    def __init__(self, relay: Relay, subscription_path: str) -> None:
        self.relay, self.path = relay, subscription_path
        self.counters = Counters()
        self._lock = threading.Lock()
        self._session = requests.Session()

    def __call__(self, message: Message) -> None:
        with self._lock:
            self.counters.in_flight += 1
            self.counters.peak = max(self.counters.peak, self.counters.in_flight)
        try:
            delivered = self._push(message)
        finally:
            with self._lock:
                self.counters.in_flight -= 1
                if delivered:
                    self.counters.acked += 1
                else:
                    self.counters.nacked += 1
        if delivered:
            message.ack()
        else:
            message.nack()

    def _push(self, message: Message) -> bool:
        headers = {
            "Content-Type": "application/json",
            "x-goog-pubsub-message-id": message.message_id,
            "x-goog-pubsub-subscription-name": self.path,
            "x-goog-pubsub-publish-time": _push_time(message.publish_time),
        }
        try:
            response = self._session.post(
                self.relay.endpoint, data=json.dumps(envelope(message, self.path)),
                headers=headers, timeout=self.relay.ack_deadline_seconds)
        except requests.RequestException as exc:
            log.warning("%s: endpoint unreachable: %s", self.relay.subscription, exc)
            return False
        return 200 <= response.status_code < 300


def start(project: str, relay: Relay) -> Deliverer:
    """Stream `relay`'s subscription into its endpoint, on threads of its own."""
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(project, relay.subscription)
    deliverer = Deliverer(relay, path)
    subscriber.subscribe(
        path, deliverer,
        flow_control=pubsub_v1.types.FlowControl(
            max_messages=relay.window,
            # Production redelivers a push unanswered within the ack deadline; so does a
            # lease that is not extended past it.
            max_lease_duration=relay.ack_deadline_seconds),
        scheduler=ThreadScheduler(ThreadPoolExecutor(
            max_workers=relay.window, thread_name_prefix=relay.subscription)))
    log.info("relaying %s to %s, %s at once", relay.subscription, relay.endpoint, relay.window)
    return deliverer


def serve_counters(port: int, deliverers: list[Deliverer]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({d.relay.subscription: asdict(d.counters)
                               for d in deliverers}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--relay", action="append", type=Relay.parse, default=[],
                        help="SUBSCRIPTION=ENDPOINT=WINDOW=ACK_DEADLINE_SECONDS")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    deliverers = [start(args.project, relay) for relay in args.relay]
    serve_counters(args.port, deliverers).serve_forever()


if __name__ == "__main__":
    main()
