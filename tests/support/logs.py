"""Capturing what the process logs, as the Cloud Logging JSON lines it would print."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from vss.observability import CloudLoggingFormatter


@contextmanager
def captured(level: int = logging.INFO, secrets: list[str] | None = None
             ) -> Iterator[list[dict[str, Any]]]:
    """The JSON lines logged inside the block (filled in when it exits)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(CloudLoggingFormatter("vss-local", secrets or []))
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(level)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        lines += [json.loads(x) for x in stream.getvalue().splitlines()]
