"""Dead letters: the messages Pub/Sub gave up delivering, as the dead_letter function records
them for the operations console.

A stage or segment message that ran out of delivery attempts fails its task; a storage event
that did is dropped (its waiting tasks fail at their deadline). Either way one record is kept
for `RETENTION`, named after the dead letter's own message id: a redelivery of that message
finds its record and adds none. Pub/Sub dead-letters on a best-effort basis and may forward
one message twice, as two messages with ids of their own: that makes two records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

RETENTION = timedelta(days=30)
# What Pub/Sub adds to a message it forwards to a dead-letter topic.
SOURCE_SUBSCRIPTION = "CloudPubSubDeadLetterSourceSubscription"
SOURCE_DELIVERY_COUNT = "CloudPubSubDeadLetterSourceDeliveryCount"


class DeadLetterKind(StrEnum):
    STAGE = "stage"
    SEGMENT = "segment"
    STORAGE = "storage"


@dataclass(frozen=True)
class Delivery:
    """A Pub/Sub message as it reached a function: its id and attributes (the payload is
    decoded separately, into the message model it matches)."""

    message_id: str
    attributes: Mapping[str, str] = field(default_factory=dict)

    @property
    def source_subscription(self) -> str | None:
        """The subscription that gave the message up, when Pub/Sub says."""
        return self.attributes.get(SOURCE_SUBSCRIPTION) or None

    @property
    def delivery_attempts(self) -> int | None:
        """How often the source subscription tried, when Pub/Sub says."""
        raw = self.attributes.get(SOURCE_DELIVERY_COUNT, "")
        return int(raw) if raw.isascii() and raw.isdigit() else None


class DeadLetter(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(description="Digest of the kind and the dead letter's message id.")
    message_id: str
    kind: DeadLetterKind
    subscription: str | None = Field(
        None, description="The subscription that gave the message up (Pub/Sub's attribute).")
    task_id: str | None = None
    tenant_id: str | None = None
    object_name: str | None = Field(None, description="gs://bucket/name of a storage event.")
    details: dict[str, str] = Field(
        default_factory=dict, description="The stage, or the segment's plan and index.")
    attributes: dict[str, str] = Field(default_factory=dict)
    delivery_attempts: int | None = None
    received_at: datetime
    expire_at: datetime = Field(description="Firestore's TTL policy may delete it after.")


def dead_letter_id(kind: DeadLetterKind, message_id: str) -> str:
    """A fixed-length document id whatever the message id; the kind is part of it because
    each dead-letter topic numbers its messages on its own."""
    return hashlib.sha256(f"{kind.value}\n{message_id}".encode()).hexdigest()


def new_dead_letter(
    kind: DeadLetterKind, delivery: Delivery, now: datetime, *, task_id: str | None = None,
    tenant_id: str | None = None, object_name: str | None = None,
    details: Mapping[str, str] | None = None,
) -> DeadLetter:
    return DeadLetter(
        id=dead_letter_id(kind, delivery.message_id), message_id=delivery.message_id,
        kind=kind, subscription=delivery.source_subscription, task_id=task_id,
        tenant_id=tenant_id, object_name=object_name, details=dict(details or {}),
        attributes=dict(delivery.attributes), delivery_attempts=delivery.delivery_attempts,
        received_at=now, expire_at=now + RETENTION)
