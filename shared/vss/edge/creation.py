"""Creating a task from the edge, safe to retry: every attempt of one creation sends the same
`Idempotency-Key`, so a timeout, a dropped connection or a 5xx is tried again without risk of
a second task (the API answers a repeat with the first attempt's task). `vss run` keeps the
key in its state file, so a run stopped mid-creation creates again with it too."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from vss.edge.backoff import Backoff
from vss.edge.client import EdgeClient, retry_call

# Tries of one creation: with the backoff below, about 10 s of waiting on an API that fails.
ATTEMPTS = 5


def new_key() -> str:
    """A fresh key: random, so no two creations share one by chance."""
    return str(uuid.uuid4())


def create_task(client: EdgeClient, task_type: str, payload: dict[str, Any], key: str, *,
                attempts: int = ATTEMPTS, backoff: Backoff | None = None,
                sleep: Callable[[float], None] | None = None) -> dict[str, Any]:
    """The task's view; transient failures (a 429 of a quota included, waiting its
    `Retry-After`) are retried with `key`, anything else raised."""
    return retry_call(lambda: client.create_task(task_type, payload, idempotency_key=key),
                      attempts=attempts, backoff=backoff or Backoff(initial=1.0, maximum=8.0),
                      sleep=sleep or time.sleep)
