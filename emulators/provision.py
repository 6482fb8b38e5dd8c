"""Creating the topology's buckets, topics, push subscriptions and queues in the emulators,
with the real google clients. Creating what already exists is a no-op, so `up` can rerun."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from emulators.clients import storage_client, tasks_client, tasks_parent
from emulators.config import Config
from emulators.topology import REGION, TOPOLOGY, Queue, Subscription, Topology

if TYPE_CHECKING:
    from google.cloud import pubsub_v1, tasks_v2


def provision(cfg: Config, topology: Topology = TOPOLOGY) -> None:
    """Everything but the topics, which `up` creates earlier (see create_topics)."""
    create_buckets(cfg, topology)
    create_subscriptions(cfg, topology)
    create_queues(cfg, topology)


def _ignore_existing(create: Callable[[], object]) -> None:
    from google.api_core import exceptions

    # AlreadyExists is a Conflict too; fake-gcs answers a plain 409.
    with contextlib.suppress(exceptions.Conflict):
        create()


def create_topics(cfg: Config, topology: Topology = TOPOLOGY) -> None:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    for topic in topology.topics:
        path = publisher.topic_path(cfg.project, topic.name)
        _ignore_existing(partial(publisher.create_topic, name=path))


def create_buckets(cfg: Config, topology: Topology = TOPOLOGY) -> None:
    client = storage_client(cfg)
    for bucket in topology.buckets:
        _ignore_existing(partial(client.create_bucket, bucket.name, location=REGION))


def subscription_request(cfg: Config, subscription: Subscription) -> pubsub_v1.types.Subscription:
    from google.cloud import pubsub_v1
    from google.protobuf import duration_pb2

    paths = pubsub_v1.SubscriberClient
    retry = subscription.retry
    dead_letter = subscription.dead_letter
    return pubsub_v1.types.Subscription(
        name=paths.subscription_path(cfg.project, subscription.name),
        topic=paths.topic_path(cfg.project, subscription.topic),
        # A relayed subscription is pulled by the push relay, which pushes it (topology.PushRelay).
        push_config=None if subscription.relayed else pubsub_v1.types.PushConfig(
            push_endpoint=cfg.url(subscription.push_to) + "/"),
        ack_deadline_seconds=subscription.ack_deadline_seconds,
        retry_policy=pubsub_v1.types.RetryPolicy(
            minimum_backoff=duration_pb2.Duration(seconds=retry.minimum_backoff_seconds),
            maximum_backoff=duration_pb2.Duration(seconds=retry.maximum_backoff_seconds),
        ),
        dead_letter_policy=None if dead_letter is None else pubsub_v1.types.DeadLetterPolicy(
            dead_letter_topic=paths.topic_path(cfg.project, dead_letter.topic),
            max_delivery_attempts=dead_letter.max_delivery_attempts,
        ),
    )


def create_subscriptions(cfg: Config, topology: Topology = TOPOLOGY) -> None:
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    for subscription in topology.subscriptions:
        request = subscription_request(cfg, subscription)
        _ignore_existing(partial(subscriber.create_subscription, request=request))


def queue_request(cfg: Config, queue: Queue) -> tasks_v2.Queue:
    from google.cloud import tasks_v2

    return tasks_v2.Queue(
        name=f"{tasks_parent(cfg)}/queues/{queue.name}",
        rate_limits=tasks_v2.RateLimits(
            max_dispatches_per_second=queue.max_dispatches_per_second,
            max_concurrent_dispatches=queue.max_concurrent_dispatches,
        ),
    )


def create_queues(cfg: Config, topology: Topology = TOPOLOGY) -> None:
    with tasks_client(cfg) as client:
        for queue in topology.queues:
            request = queue_request(cfg, queue)
            _ignore_existing(partial(client.create_queue, parent=tasks_parent(cfg), queue=request))
