"""Local stand-in for Pub/Sub push delivery at the endpoint's own concurrency.

The Pub/Sub emulator pushes each subscription's messages through two serial loops, so an
endpoint never sees more than two requests at once, whatever it serves. Production Pub/Sub
widens its push window while the endpoint answers 2xx and narrows it on errors, so a Cloud Run
service gets as many requests at once as it accepts (the TTS worker: `VSS_TTS_CONCURRENCY`).
The relay keeps up to WINDOW pushes in flight from a pull subscription of the emulator: it
pulls (with the real client library) as many messages as it has free slots, POSTs each to the
endpoint in the push envelope the emulator and production send, then acks it on a 2xx or nacks
it on anything else or no answer within the ack deadline; the emulator's retry and dead-letter
policies apply as they do to a push. (Unary pulls, not a streaming pull: the emulator keeps
sending to the stream of a relay that was killed, so a restarted relay would wait out the ack
deadline.)

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
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
import requests.adapters
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.pubsub_v1.types import ReceivedMessage

log = logging.getLogger("push_relay")
# The emulator needs `return_immediately` (see _loop); production's deprecation of it is moot.
warnings.filterwarnings("ignore", message="The return_immediately flag is deprecated",
                        category=DeprecationWarning)


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


# How long a loop waits before pulling again from an empty subscription (the emulator's own
# push loops wait 100 ms).
IDLE_S = 0.05


def envelope(received: ReceivedMessage, subscription_path: str) -> dict[str, Any]:
    """The JSON body Pub/Sub pushes: the message with both spellings of its id and publish
    time (as the emulator and production send them), the subscription and, when the
    subscription has a dead-letter policy, the delivery attempt."""
    message = received.message
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
    if received.delivery_attempt:
        body["deliveryAttempt"] = received.delivery_attempt
    return body


def _push_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class Deliverer:
    """Pushes one relay's messages, at most WINDOW at once, and keeps its counters.

    One loop pulls as many messages as there are free slots and hands each to a pusher
    thread; a pusher frees its slot as soon as the endpoint answers, before its ack, so the
    next message is pulled at once. (A loop per slot, each pulling one message, made every
    idle slot poll the emulator 20 times a second, and put an ack and a pull between a
    segment's answer and the next segment's push.)
    """

    def __init__(self, project: str, relay: Relay) -> None:
        self.relay = relay
        self.subscriber = pubsub_v1.SubscriberClient()
        self.path = self.subscriber.subscription_path(project, relay.subscription)
        self.counters = Counters()
        self._lock = threading.Lock()
        self._session = requests.Session()
        # One pooled connection per slot (requests keeps 10 by default, and opens and drops
        # the rest each time).
        adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=relay.window)
        self._session.mount("http://", adapter)
        self._free = threading.Semaphore(relay.window)
        self._pushers = ThreadPoolExecutor(max_workers=relay.window,
                                           thread_name_prefix=relay.subscription)
        self._stopped = threading.Event()

    def stop(self) -> None:
        """Stop pulling; pushes in flight end as usual (the relay process never stops)."""
        self._stopped.set()

    def start(self) -> None:
        threading.Thread(target=self._loop, daemon=True,
                         name=f"{self.relay.subscription}-pull").start()
        log.info("relaying %s to %s, %s at once", self.relay.subscription,
                 self.relay.endpoint, self.relay.window)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            free = self._take_free_slots()
            try:
                # An empty pull that waits is not woken by a publish on the emulator: ask,
                # and look again shortly, as the emulator's push loops do.
                pulled = self.subscriber.pull(request={
                    "subscription": self.path, "max_messages": free,
                    "return_immediately": True,
                }, timeout=30).received_messages
            except gexc.GoogleAPICallError as exc:
                log.warning("%s: pull failed: %s", self.relay.subscription, exc)
                pulled = []
            for received in pulled:
                self._pushers.submit(self._deliver, received)
            for _ in range(free - len(pulled)):
                self._free.release()
            if not pulled:
                time.sleep(IDLE_S)

    def _take_free_slots(self) -> int:
        """Wait for a free slot, then take every other one free now."""
        self._free.acquire()
        free = 1
        while free < self.relay.window and self._free.acquire(blocking=False):
            free += 1
        return free

    def _deliver(self, received: ReceivedMessage) -> None:
        with self._lock:
            self.counters.in_flight += 1
            self.counters.peak = max(self.counters.peak, self.counters.in_flight)
        delivered = False
        try:
            delivered = self._push(received)
        finally:
            with self._lock:
                self.counters.in_flight -= 1
            self._free.release()
        try:
            if delivered:
                self.subscriber.acknowledge(subscription=self.path, ack_ids=[received.ack_id])
            else:  # redelivered after the subscription's retry backoff
                self.subscriber.modify_ack_deadline(
                    subscription=self.path, ack_ids=[received.ack_id], ack_deadline_seconds=0)
        except gexc.GoogleAPICallError as exc:  # redelivered after the ack deadline
            log.warning("%s: ack failed: %s", self.relay.subscription, exc)
        with self._lock:  # counted once settled, so a test that waits on it sees the ack
            if delivered:
                self.counters.acked += 1
            else:
                self.counters.nacked += 1

    def _push(self, received: ReceivedMessage) -> bool:
        message = received.message
        headers = {
            "Content-Type": "application/json",
            "x-goog-pubsub-message-id": message.message_id,
            "x-goog-pubsub-subscription-name": self.path,
            "x-goog-pubsub-publish-time": _push_time(message.publish_time),
        }
        try:
            response = self._session.post(
                self.relay.endpoint, data=json.dumps(envelope(received, self.path)),
                headers=headers, timeout=self.relay.ack_deadline_seconds)
        except requests.RequestException as exc:
            log.warning("%s: endpoint unreachable: %s", self.relay.subscription, exc)
            return False
        return 200 <= response.status_code < 300


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
    deliverers = [Deliverer(args.project, relay) for relay in args.relay]
    for deliverer in deliverers:
        deliverer.start()
    serve_counters(args.port, deliverers).serve_forever()


if __name__ == "__main__":
    main()
