"""Helpers for the CloudEvent entry points: decoding Pub/Sub messages, dropping stale events."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from cloudevents.http import CloudEvent
from pydantic import BaseModel, ValidationError

from vss.bootstrap import Deps, bootstrap
from vss.config import get_settings
from vss.observability import configure_logging

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def init_function() -> Deps:
    """Once per function instance: JSON logging, then the real adapters."""
    settings = get_settings()
    configure_logging(settings.project_id)
    return bootstrap(settings)


def too_old(event: CloudEvent, max_age_seconds: int) -> bool:
    """Events past the cut-off are acknowledged unprocessed so a poison message cannot loop."""
    raw = event.get("time")
    if not raw:
        return False
    sent = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return datetime.now(UTC) - sent > timedelta(seconds=max_age_seconds)


def pubsub_message(event: CloudEvent, model: type[M]) -> M | None:
    """The decoded message, or None (logged) when it is malformed and must be dropped."""
    data: dict[str, Any] = event.data or {}
    try:
        payload = base64.b64decode(data.get("message", {}).get("data", ""))
        return model.model_validate_json(payload)
    except (ValueError, ValidationError):
        log.error("malformed message dropped", extra={"event_id": event["id"]})
        return None
