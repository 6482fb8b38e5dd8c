"""Pub/Sub publisher (one client per process; it batches and is thread-safe)."""

from __future__ import annotations

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1  # type: ignore[attr-defined]

from vss.adapters import permissions
from vss.errors import RetryableError


class PubSubPublisher:
    def __init__(self, project: str, client: pubsub_v1.PublisherClient | None = None) -> None:
        self._project = project
        self._client = client or pubsub_v1.PublisherClient()

    def publish(self, topic: str, data: bytes, **attributes: str) -> str:
        permissions.used("pubsub.topics.publish", permissions.topic(topic))
        path = self._client.topic_path(self._project, topic)
        try:
            return self._client.publish(path, data, **attributes).result(timeout=30)
        except (gexc.GoogleAPICallError, TimeoutError) as exc:
            raise RetryableError(f"Publishing to {topic} failed: {exc}") from exc
