"""The IAM permission each adapter call needs, said where the call is made.

Every adapter method that reaches a Google API calls `used(permission, resource)` with what
that call needs in production (the emulators check nothing). Outside a test stack this only
looks up an environment variable. When `VSS_PERMISSION_LEDGER` names a file — the local stack
gives each function process its own — each distinct pair is appended to it as one JSON line,
so a run of the e2e suite leaves, per function, the permissions its code really used;
`tests/permissions/` checks them against the roles Terraform grants that function. When
`VSS_CALL_LOG` names a file as well, every call is appended to it as a line
`<permission> <resource>`, so the load benchmark can count what each task costs in Firestore
writes and Pub/Sub publishes.

Resources: `project`, `bucket/<name>`, `topic/<name>`, `queue/<name>`,
`service-account/<email>`, and `service-account/self` for the function's own identity (V4
URLs are signed through IAM signBlob on it).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from typing import TextIO

log = logging.getLogger(__name__)
LEDGER_ENV = "VSS_PERMISSION_LEDGER"
CALL_LOG_ENV = "VSS_CALL_LOG"
SELF = "service-account/self"

_seen: set[tuple[str, str, str]] = set()
_lock = threading.Lock()


def used(permission: str, resource: str) -> None:
    """Record that the calling code needs `permission` on `resource` (see the module doc)."""
    calls = os.environ.get(CALL_LOG_ENV)
    if calls:
        _append(calls, f"{permission} {resource}\n")
    path = os.environ.get(LEDGER_ENV)
    if not path:
        return
    key = (path, permission, resource)
    with _lock:
        if key in _seen:
            return
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "a", encoding="utf-8") as ledger:
                ledger.write(json.dumps({"permission": permission, "resource": resource}) + "\n")
        except OSError as exc:  # a test aid must never fail the call it describes
            log.warning("permission ledger not written: %s", exc)
            return
        _seen.add(key)


# Each call log stays open, line-buffered (a killed process loses no whole line): opening the
# file for every call held the lock long enough to queue a worker's threads behind it.
_call_logs: dict[str, TextIO] = {}


def _append(path: str, line: str) -> None:
    try:
        with _lock:
            log_file = _call_logs.get(path)
            if log_file is None:
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                # Kept open for the life of the process, closed by its exit.
                log_file = _call_logs[path] = open(  # noqa: SIM115
                    path, "a", encoding="utf-8", buffering=1)
            log_file.write(line)
    except OSError as exc:  # a measuring aid must never fail the call it counts
        log.warning("call log not written: %s", exc)


PROJECT = "project"


def datastore(*actions: str) -> None:
    """Firestore document access (`datastore.entities.<action>`; no scope below the project)."""
    for action in actions:
        used(f"datastore.entities.{action}", PROJECT)


def bucket(name: str) -> str:
    return f"bucket/{name}"


def topic(name: str) -> str:
    return f"topic/{name}"


def queue(name: str) -> str:
    return f"queue/{name}"


def service_account(email: str) -> str:
    return f"service-account/{email}"
