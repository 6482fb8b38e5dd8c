"""What the local stack is made of, as data: emulators and their ports, the Eventarc bridge,
the functions and their triggers, buckets, topics, push subscriptions and Cloud Tasks queues.

`stack.py` starts, provisions and probes exactly what is listed here, and nothing else. The names
the application itself reads from `Settings` (project, region, buckets, the stages and segments
topics, the deadline queue) and the bound on segments synthesised at once (`tts_concurrency`) are
taken from the Settings defaults, so each has one source. The names only the emulators need
(dead-letter topics, subscription names, the storage-notification topic) are defined here, and
Terraform must agree with them: tests/infra/test_topology.py compares this module with
infra/terraform and with `Settings`, as data.

Every port is a base port; `VSS_PORT_OFFSET` moves them all (see `config.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import TypeVar

from vss.config import Settings

HOST = "127.0.0.1"

_T = TypeVar("_T")


def _setting_default(field: str, kind: type[_T]) -> _T:
    """The default of a `Settings` field: what the code uses unless told otherwise."""
    value = Settings.model_fields[field].default
    if not isinstance(value, kind):
        raise TypeError(f"Settings.{field} has no {kind.__name__} default: {value!r}")
    return value


PROJECT = _setting_default("project_id", str)
REGION = _setting_default("region", str)
UPLOADS_BUCKET = _setting_default("uploads_bucket", str)
ARTIFACTS_BUCKET = _setting_default("artifacts_bucket", str)
STAGES_TOPIC = _setting_default("stages_topic", str)
SEGMENTS_TOPIC = _setting_default("segments_topic", str)
DEADLINE_QUEUE = _setting_default("deadline_queue", str)
# Names Settings does not hold: this module is their source, Terraform mirrors them.
STAGES_DEAD_TOPIC = "vss-stages-dead"
SEGMENTS_DEAD_TOPIC = "vss-segments-dead"
NOTIFICATIONS_TOPIC = "vss-gcs-notifications"
NOTIFICATIONS_DEAD_TOPIC = "vss-gcs-notifications-dead"


class Trigger(StrEnum):
    """How a function is reached; the values are Terraform's `local.functions[*].trigger`."""

    HTTP = "http"  # called directly: by the edge, or by Cloud Tasks
    PUSH = "push"  # a Pub/Sub push subscription in SUBSCRIPTIONS names it as its endpoint
    STORAGE = "storage"  # finalized objects, as Eventarc CloudEvents (locally via the bridge)


@dataclass(frozen=True)
class Emulator:
    """A local stand-in for a Google service, one process on one port."""

    name: str
    base_port: int


@dataclass(frozen=True)
class Bridge:
    """The local stand-in for Eventarc's storage trigger (eventarc_bridge.py).

    fake-gcs publishes a notification for each finalized object to `topic`, a push subscription
    delivers it to the bridge, and the bridge POSTs the Eventarc CloudEvent to the function whose
    trigger is STORAGE. `bucket` is the bucket production's trigger watches; fake-gcs notifies
    for it alone (`-event.bucket`), as Eventarc does, so the artifacts a task writes cost no
    event. The function still checks the bucket it is told about.
    """

    name: str
    base_port: int
    topic: str
    bucket: str


@dataclass(frozen=True)
class PushRelay:
    """The local stand-in for Pub/Sub's push delivery where an endpoint serves more than two
    requests at once (push_relay.py).

    The emulator pushes each subscription through two serial loops: at most two requests in
    flight, where production widens its push window to what the endpoint accepts. A `relayed`
    subscription is created as a pull subscription, and the relay pushes its messages with as
    many in flight as its endpoint's concurrency.
    """

    name: str
    base_port: int


@dataclass(frozen=True)
class Function:
    """One functions/<name>/main.py, run under functions-framework.

    `name` is also the component name and the key in Terraform's `local.functions`.
    `max_concurrency` bounds the requests it serves at once, one per single-threaded process
    as production serves one per instance (None keeps functions-framework's default: one
    process of four threads per CPU), e.g. to stay within an API quota;
    `concurrency_env` names the setting that changes it when the stack starts.
    `health_path` is a route that must answer 200 once it is up; without one, an open port is
    enough.
    """

    name: str
    entry_point: str
    trigger: Trigger
    base_port: int
    max_concurrency: int | None = None
    health_path: str | None = None
    concurrency_env: str | None = None

    def concurrency(self, env: Mapping[str, str]) -> int | None:
        """The requests it serves at once in a stack started with `env`."""
        if self.concurrency_env and env.get(self.concurrency_env):
            return int(env[self.concurrency_env])
        return self.max_concurrency

    @property
    def source(self) -> PurePosixPath:
        """The function's file, relative to the repository root."""
        return PurePosixPath("functions") / self.name / "main.py"

    @property
    def signature_type(self) -> str:
        """functions-framework's --signature-type: anything not called directly is an event."""
        return "http" if self.trigger is Trigger.HTTP else "cloudevent"


@dataclass(frozen=True)
class Bucket:
    name: str


@dataclass(frozen=True)
class Topic:
    """A Pub/Sub topic. `local_only` says why production has no such topic (None: it has)."""

    name: str
    local_only: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Pub/Sub's redelivery backoff after a push is answered with an error."""

    minimum_backoff_seconds: int
    maximum_backoff_seconds: int


@dataclass(frozen=True)
class DeadLetter:
    """Where a message goes after `max_delivery_attempts` failed pushes."""

    topic: str
    max_delivery_attempts: int


@dataclass(frozen=True)
class Subscription:
    """A push subscription: messages of `topic` are POSTed to the component `push_to`.

    `local_only` says why production has no such subscription (None: it has). A `relayed`
    subscription is pushed locally by the push relay, with as many requests in flight as its
    endpoint serves (see PushRelay); production pushes it like any other.
    """

    name: str
    topic: str
    push_to: str
    ack_deadline_seconds: int
    retry: RetryPolicy
    dead_letter: DeadLetter | None = None
    local_only: str | None = None
    relayed: bool = False


@dataclass(frozen=True)
class Queue:
    """A Cloud Tasks queue whose tasks call the function `target`, with its dispatch limits
    (stored by the emulator, which does not enforce them)."""

    name: str
    target: str
    max_dispatches_per_second: float
    max_concurrent_dispatches: int


@dataclass(frozen=True)
class Topology:
    """The whole local stack. The order of the tuples is the order of start-up and `status`."""

    emulators: tuple[Emulator, ...]
    bridge: Bridge
    relay: PushRelay
    functions: tuple[Function, ...]
    buckets: tuple[Bucket, ...]
    topics: tuple[Topic, ...]
    subscriptions: tuple[Subscription, ...]
    queues: tuple[Queue, ...]

    def base_ports(self) -> dict[str, int]:
        """Component name -> port before VSS_PORT_OFFSET."""
        components = (*self.emulators, self.bridge, *self.functions, self.relay)
        return {c.name: c.base_port for c in components}

    def function(self, name: str) -> Function:
        return _one([f for f in self.functions if f.name == name], f"function {name!r}")

    def storage_function(self) -> Function:
        """The function the bridge delivers storage events to."""
        storage = [f for f in self.functions if f.trigger is Trigger.STORAGE]
        return _one(storage, "function with a storage trigger")

    def queue(self, name: str) -> Queue:
        return _one([q for q in self.queues if q.name == name], f"queue {name!r}")

    def subscriptions_to(self, component: str) -> Iterator[Subscription]:
        return (s for s in self.subscriptions if s.push_to == component)


def _one(found: list[_T], what: str) -> _T:
    if len(found) != 1:
        raise LookupError(f"the topology has {len(found)} {what}, not one")
    return found[0]


# Locally a failing push is retried within seconds, so a test sees its message dead-lettered
# after 8 attempts in about 30 s (production backs off 10-600 s, var.stages_delivery).
LOCAL_RETRY = RetryPolicy(minimum_backoff_seconds=1, maximum_backoff_seconds=10)
# As in production (var.stages_delivery, var.segments_delivery).
MAX_DELIVERY_ATTEMPTS = 8
# Segments synthesised at once: the TTS quota. Production bounds instances x requests per
# instance by the same number (var.tts_concurrency).
TTS_CONCURRENCY = _setting_default("tts_concurrency", int)

_NO_EVENTARC = (
    "in production Eventarc delivers the storage events itself and owns its trigger's "
    "subscription, which Terraform cannot give a dead-letter topic: on_upload drops events "
    "older than VSS_EVENT_MAX_AGE_SECONDS instead"
)

TOPOLOGY = Topology(
    emulators=(
        Emulator("firestore", 8081),
        Emulator("pubsub", 8085),
        Emulator("tasks", 9022),
        Emulator("gcs", 4443),
    ),
    bridge=Bridge("eventarc_bridge", 8089, topic=NOTIFICATIONS_TOPIC, bucket=UPLOADS_BUCKET),
    relay=PushRelay("push_relay", 8088),
    functions=(
        Function("api", "api", Trigger.HTTP, 8090, health_path="/api/v1/health/"),
        Function("on_upload", "on_upload", Trigger.STORAGE, 8091),
        Function("stage_worker", "stage_worker", Trigger.PUSH, 8092),
        Function("deadline", "deadline_check", Trigger.HTTP, 8093),
        Function("dead_letter", "on_dead_letter", Trigger.PUSH, 8094),
        Function("tts_worker", "tts_worker", Trigger.PUSH, 8095, max_concurrency=TTS_CONCURRENCY,
                 concurrency_env="VSS_TTS_CONCURRENCY"),
        # The login page answers 200 without a session once VSS_CONSOLE_SECRET is set (503
        # without it), so the probe also proves the stack gave the console its secret.
        Function("console", "console", Trigger.HTTP, 8096, health_path="/console/login"),
    ),
    buckets=(Bucket(UPLOADS_BUCKET), Bucket(ARTIFACTS_BUCKET)),
    topics=(
        Topic(NOTIFICATIONS_TOPIC, local_only="fake-gcs publishes storage notifications here "
              "for the Eventarc bridge; " + _NO_EVENTARC),
        Topic(NOTIFICATIONS_DEAD_TOPIC, local_only="where the bridge's subscription "
              "dead-letters a storage event that keeps failing; " + _NO_EVENTARC),
        Topic(STAGES_TOPIC),
        Topic(STAGES_DEAD_TOPIC),
        Topic(SEGMENTS_TOPIC),
        Topic(SEGMENTS_DEAD_TOPIC),
    ),
    subscriptions=(
        Subscription(
            "vss-stages-push", STAGES_TOPIC, push_to="stage_worker", ack_deadline_seconds=60,
            retry=LOCAL_RETRY, dead_letter=DeadLetter(STAGES_DEAD_TOPIC, MAX_DELIVERY_ATTEMPTS),
        ),
        Subscription(
            "vss-stages-dead-push", STAGES_DEAD_TOPIC, push_to="dead_letter",
            ack_deadline_seconds=60, retry=LOCAL_RETRY,
        ),
        # One message per dubbing segment. Pub/Sub waits as long as production does for a
        # synthesis of up to two minutes (tts_worker's timeout + 30 s); a segment that keeps
        # failing is dead-lettered, and dead_letter fails its task naming the segment. Relayed:
        # the fan-out runs as many segments at once as tts_worker serves, as in production.
        Subscription(
            "vss-segments-push", SEGMENTS_TOPIC, push_to="tts_worker", ack_deadline_seconds=150,
            retry=LOCAL_RETRY, dead_letter=DeadLetter(SEGMENTS_DEAD_TOPIC, MAX_DELIVERY_ATTEMPTS),
            relayed=True,
        ),
        Subscription(
            "vss-segments-dead-push", SEGMENTS_DEAD_TOPIC, push_to="dead_letter",
            ack_deadline_seconds=60, retry=LOCAL_RETRY,
        ),
        # Eventarc holds a storage event as long as the function may run. An event that keeps
        # failing (on_upload or the bridge answering non-2xx) is dead-lettered; dead_letter logs
        # and drops it, and a task waiting on that file fails at its deadline.
        Subscription(
            f"{NOTIFICATIONS_TOPIC}-push", NOTIFICATIONS_TOPIC, push_to="eventarc_bridge",
            ack_deadline_seconds=600, retry=LOCAL_RETRY,
            dead_letter=DeadLetter(NOTIFICATIONS_DEAD_TOPIC, MAX_DELIVERY_ATTEMPTS),
            local_only="the bridge's subscription to the notifications topic; " + _NO_EVENTARC,
        ),
        Subscription(
            f"{NOTIFICATIONS_DEAD_TOPIC}-push", NOTIFICATIONS_DEAD_TOPIC, push_to="dead_letter",
            ack_deadline_seconds=60, retry=LOCAL_RETRY,
            local_only="delivers the storage events' dead letters to dead_letter, which logs "
            "and drops them; " + _NO_EVENTARC,
        ),
    ),
    queues=(
        Queue(DEADLINE_QUEUE, target="deadline", max_dispatches_per_second=10,
              max_concurrent_dispatches=10),
    ),
)
