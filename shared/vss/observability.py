"""Structured logs in Cloud Logging's JSON format, configured once per process.

Every line is one JSON object on stdout with `severity`, `message`, the request's trace and the
labels passed with `extra=` (`task_id`, `event_id`, `stage`). Payloads, API keys and signed URLs
are never passed to a logger, and only the whitelisted `LABELS` of a record are emitted, so an
unexpected `extra=` cannot leak one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from vss.redaction import redact

LABELS = ("task_id", "event_id", "stage", "tenant_id", "file_id", "instance_id")

current_trace: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "current_trace", default=None
)
# The Pub/Sub attribute that carries the trace id from the API request into the workers.
TRACE_ATTRIBUTE = "trace"


class CloudLoggingFormatter(logging.Formatter):
    """JSON lines; message and stack trace pass through `redact`, because exception text from
    libraries can quote a key or a signed URL we never logged ourselves."""

    def __init__(self, project_id: str, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self._project_id = project_id
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": redact(record.getMessage(), self._secrets),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        labels = {k: str(getattr(record, k)) for k in LABELS if getattr(record, k, None)}
        if labels:
            entry["logging.googleapis.com/labels"] = labels
            entry.update(labels)
        trace = current_trace.get()
        if trace:
            entry["logging.googleapis.com/trace"] = f"projects/{self._project_id}/traces/{trace}"
        if record.exc_info:
            entry["stack_trace"] = redact(self.formatException(record.exc_info), self._secrets)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(project_id: str, level: int = logging.INFO,
                      secrets: Iterable[str | None] = ()) -> None:
    """Route the root logger to stdout as JSON lines. Safe to call more than once."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, CloudLoggingFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter(project_id, secrets))
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "google.auth", "werkzeug", "google.api_core"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def trace_from_header(header: str | None) -> str | None:
    """Trace id from `X-Cloud-Trace-Context: TRACE/SPAN;o=1` or W3C `traceparent`."""
    if not header:
        return None
    if header.count("-") == 3:  # traceparent: 00-<trace>-<span>-<flags>
        return header.split("-")[1]
    return header.split("/")[0] or None
