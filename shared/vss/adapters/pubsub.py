"""Pub/Sub publisher (one client per process; it batches and is thread-safe)."""

from __future__ import annotations

from collections.abc import Sequence

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1  # type: ignore[attr-defined, import-untyped, unused-ignore]

from vss.adapters import permissions
from vss.errors import RetryableError
from vss.ports import Message


class PubSubPublisher:
    def __init__(self, project: str, client: pubsub_v1.PublisherClient | None = None) -> None:
        self._project = project
        self._client = client or pubsub_v1.PublisherClient()

    def publish(self, topic: str, data: bytes, **attributes: str) -> str:
        return self.publish_all(topic, [(data, attributes)])[0]

    def publish_all(self, topic: str, messages: Sequence[Message]) -> list[str]:
        permissions.used("pubsub.topics.publish", permissions.topic(topic))
        path = self._client.topic_path(self._project, topic)
        try:
            # All handed to the client before any is waited for: its batching sends them
            # in one request (up to 100 messages or 10 ms apart).
            sent = [self._client.publish(path, data, **attributes)
                    for data, attributes in messages]
            return [future.result(timeout=30) for future in sent]
        except (gexc.GoogleAPICallError, TimeoutError) as exc:
            raise RetryableError(f"Publishing to {topic} failed: {exc}") from exc
