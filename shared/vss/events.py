"""Helpers for the CloudEvent entry points: decoding Pub/Sub messages, dropping stale events,
carrying the trace of the API request that started a task into the workers' logs."""

from __future__ import annotations

import base64
import functools
import importlib.metadata
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from cloudevents.http import CloudEvent
from pydantic import BaseModel, ValidationError

from vss.config import Settings, get_settings
from vss.deps import Deps
from vss.domain.dead_letters import Delivery
from vss.domain.function_starts import DISTRIBUTION, FunctionStart
from vss.domain.messages import SegmentMessage, StageMessage, StorageNotification
from vss.errors import RetryableError
from vss.observability import TRACE_ATTRIBUTE, configure_logging, current_trace
from vss.service import operations

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def init_function(build: Callable[[Settings], Deps], name: str | None = None) -> Deps:
    """Once per function instance: JSON logging, then what the function runs with, built by
    its composition root (`vss.bootstrap.for_*`), then the instance's start recorded for the
    console's health page (`name`: the function, functions/<name>/; unless
    VSS_RECORD_STARTS is false). A start that cannot be recorded is a warning, never a
    function that does not start."""
    settings = get_settings()
    configure_logging(settings.project_id, secrets=settings.secret_values())
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RetriesAreWarnings) for f in handler.filters):
            handler.addFilter(RetriesAreWarnings())
    deps = build(settings)
    if name is not None and settings.record_starts:
        operations.record_start(deps, function_start(name, settings, deps.clock()))
    return deps


def forked_processes() -> int:
    """How many processes functions-framework forks to serve this function: its gunicorn
    reads `WORKERS` (1 unless set). The local stack sets it for a function of bounded
    concurrency (emulators/components.py); production runs one process per instance."""
    try:
        return max(1, int(os.environ.get("WORKERS", "1")))
    except ValueError:
        return 1


def function_start(name: str, settings: Settings, now: datetime) -> FunctionStart:
    """What this instance runs: the distribution's version where it is installed (the
    deployed archives carry the sources alone), Cloud Run's revision and the source digest
    Terraform sets."""
    try:
        version: str | None = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        version = None
    return FunctionStart(function=name, version=version,
                         revision=os.environ.get("K_REVISION") or None,
                         source_sha256=settings.source_sha256, started_at=now)


def too_old(event: CloudEvent, max_age_seconds: int) -> bool:
    """Events past the cut-off are acknowledged unprocessed so a poison message cannot loop."""
    raw = event.get("time")
    if not raw:
        return False
    sent = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return datetime.now(UTC) - sent > timedelta(seconds=max_age_seconds)


def message_attributes(event: CloudEvent) -> dict[str, str]:
    """The Pub/Sub attributes of a messagePublished event ({} when there are none)."""
    data = event.data if isinstance(event.data, dict) else {}
    message = data.get("message")
    attributes = message.get("attributes") if isinstance(message, dict) else None
    return {str(k): str(v) for k, v in attributes.items()} if isinstance(attributes, dict) else {}


@contextmanager
def traced(event: CloudEvent) -> Iterator[None]:
    """Log under the trace the message carries (set by `publish_stage` from the API request
    that created the task), so a task's worker lines share its API call's trace."""
    token = current_trace.set(message_attributes(event).get(TRACE_ATTRIBUTE) or None)
    try:
        yield
    finally:
        current_trace.reset(token)


class RetriesAreWarnings(logging.Filter):
    """The functions framework logs whatever a function raises as an ERROR with its traceback,
    then answers 500 so Pub/Sub or Cloud Tasks redelivers. A RetryableError is a handled "try
    later" — a live lease elsewhere, a provider unavailable for now — that the service layer
    has logged already: the framework's line becomes one warning, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, RetryableError):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = "sent back for a later delivery: %s", (error.message,)
            record.exc_info, record.exc_text = None, None
        return True


def storage_notification(attributes: Mapping[str, str]) -> StorageNotification | None:
    """The object a Cloud Storage notification names, read from its attributes; None for a
    message that is not one."""
    if "objectId" not in attributes or "bucketId" not in attributes:
        return None
    return StorageNotification(bucket=attributes["bucketId"], name=attributes["objectId"],
                               event_type=attributes.get("eventType"))


def dead_letter_entry(
    handle: Callable[[Delivery, StageMessage | SegmentMessage | StorageNotification], None],
) -> Callable[[CloudEvent], None]:
    """The dead_letter function's entry: what Pub/Sub gave up on, with its delivery (message id
    and attributes, which name the subscription that gave up). The stages', the segments'
    and the uploads' dead letters share the function: a storage notification is told apart
    by its attributes, the others decoded as a stage or segment message. No age cut-off: a
    dead letter is old by nature, and its work is idempotent."""
    @functools.wraps(handle)
    def entry(event: CloudEvent) -> None:
        delivery = Delivery(message_id=str(event["id"]), attributes=message_attributes(event))
        with traced(event):
            notification = storage_notification(delivery.attributes)
            if notification is not None:
                handle(delivery, notification)
                return
            message = pubsub_message(event, StageMessage, SegmentMessage)
            if isinstance(message, StageMessage | SegmentMessage):  # else malformed, logged
                handle(delivery, message)

    return entry


def pubsub_message(event: CloudEvent, *models: type[M]) -> M | None:
    """The message decoded as the first of `models` it matches, or None (logged) when it
    matches none and must be dropped."""
    data: dict[str, Any] = event.data or {}
    try:
        payload = base64.b64decode(data.get("message", {}).get("data", ""))
    except ValueError:
        payload = b""
    for model in models:
        try:
            return model.model_validate_json(payload)
        except ValidationError:
            continue
    log.error("malformed message dropped", extra={"event_id": event["id"]})
    return None


def pubsub_entry(*models: type[M], max_age_seconds: int | None = None,
                 drop: Callable[[CloudEvent], bool] | None = None,
                 ) -> Callable[[Callable[[M], None]], Callable[[CloudEvent], None]]:
    """The steps every Pub/Sub entry point takes before its work, once: `drop` (an event the
    function acknowledges unread), the trace the message carries, the age cut-off, and the
    message decoded as the first of `models` it matches. The decorated function gets the
    message; an event that passes none of the steps is acknowledged with one log line.

        @functions_framework.cloud_event
        @pubsub_entry(StageMessage, max_age_seconds=deps.settings.event_max_age_seconds)
        def stage_worker(message: StageMessage) -> None: ...
    """
    def decorate(handle: Callable[[M], None]) -> Callable[[CloudEvent], None]:
        @functools.wraps(handle)
        def entry(event: CloudEvent) -> None:
            if drop is not None and drop(event):
                return
            with traced(event):
                if max_age_seconds is not None and too_old(event, max_age_seconds):
                    log.warning("stale message dropped", extra={"event_id": event["id"]})
                    return
                message = pubsub_message(event, *models)
                if message is not None:
                    handle(message)

        return entry

    return decorate


def object_generation(data: Mapping[str, Any]) -> int | None:
    """The generation a storage event's object resource names (the JSON API sends int64 as a
    decimal string), or None when it names none we can read."""
    raw = data.get("generation")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if raw > 0 else None
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and int(raw) > 0:
        return int(raw)
    return None
