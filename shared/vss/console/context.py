"""What a console page reads besides its URL: the app's `Deps` (stored by `install`, as the
API does), the operator acting, and `record`, the audit entry every action writes."""

from __future__ import annotations

import uuid

from flask import Flask, current_app, g

from vss.deps import Deps
from vss.domain.audit import AuditEntry

_KEY = "vss_console"


def install(app: Flask, deps: Deps) -> None:
    app.extensions[_KEY] = deps


def deps() -> Deps:
    found = current_app.extensions[_KEY]
    assert isinstance(found, Deps)
    return found


def actor() -> str:
    """The operator of the current request (set by `access.authenticate`)."""
    return str(g.actor)


def record(action: str, target: str, **details: str) -> AuditEntry:
    entry = AuditEntry(id=f"a_{uuid.uuid4().hex}", actor=actor(), action=action, target=target,
                       at=deps().clock(), details=details)
    deps().audit.record(entry)
    return entry
