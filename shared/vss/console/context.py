"""What a console page reads besides its URL (its `Deps` come from `vss.app_deps`, as the
API's do): the operator acting, and `record`, the audit entry every action writes."""

from __future__ import annotations

import uuid

from flask import g

from vss.app_deps import app_deps
from vss.domain.audit import AuditEntry


def actor() -> str:
    """The operator of the current request (set by `access.authenticate`)."""
    return str(g.actor)


def record(action: str, target: str, **details: str) -> AuditEntry:
    entry = AuditEntry(id=f"a_{uuid.uuid4().hex}", actor=actor(), action=action, target=target,
                       at=app_deps().clock(), details=details)
    app_deps().audit.record(entry)
    return entry
