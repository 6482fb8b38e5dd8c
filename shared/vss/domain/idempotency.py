"""Idempotency keys of task creation (`Idempotency-Key` on `POST /api/v1/tasks/`): what a key
may be, what names its record, what is compared, and the record that binds a key to a task.

A key belongs to the tenant that sent it (two tenants may send the same key) and lives
`LIFETIME` from its first use. Within it, the same key with the same body means "the task I
asked for", with another body a mistake (`IdempotencyKeyReused`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vss.errors import BadRequest, IdempotencyKeyReused

HEADER = "Idempotency-Key"
POINTER = f"/headers/{HEADER}"
MAX_KEY_LENGTH = 255
LIFETIME = timedelta(hours=24)

# Printable ASCII, neither starting nor ending with a space: HTTP strips the whitespace around
# a field value (RFC 9110 §5.5), so such a key would reach us as another key than was sent.
_KEY_BODY = rf"[!-~](?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?"
_KEY = re.compile(_KEY_BODY)
#: The same rule as an ECMA-262 pattern, for the OpenAPI document.
KEY_PATTERN = rf"^{_KEY_BODY}$"


def parse_key(raw: str | None) -> str | None:
    """The key a request sent, None without the header; 400 pointing at the header when it is
    empty, longer than `MAX_KEY_LENGTH` or not printable ASCII."""
    if raw is None:
        return None
    if _KEY.fullmatch(raw):
        return raw
    if not raw:
        reason = "empty: send 1 to 255 printable ASCII characters, or no header"
    elif len(raw) > MAX_KEY_LENGTH:
        reason = f"{len(raw)} characters: at most {MAX_KEY_LENGTH}"
    else:
        reason = "printable ASCII only (0x20-0x7E), not starting or ending with a space"
    raise BadRequest(f"The {HEADER} header is malformed.",
                     details={"errors": [{"pointer": POINTER, "reason": reason}]})


def record_id(tenant_id: str, key: str) -> str:
    """The document id of a tenant's key: a digest, so any key is a valid id of fixed length,
    and the tenant is part of it, so tenants never share a record. The newline cannot occur in
    either part, so no two (tenant, key) pairs concatenate alike."""
    return hashlib.sha256(f"{tenant_id}\n{key}".encode()).hexdigest()


def body_digest(body: Mapping[str, Any]) -> str:
    """sha256 of the body's canonical JSON: key order and spacing do not make another body.
    ASCII escapes, because a JSON string may hold a lone surrogate that UTF-8 cannot encode."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyRecord(BaseModel):
    """A key's first use: the task it stands for and the body it came with."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    tenant_id: str
    key: str
    task_id: str = Field(description="The task this key creates (stored before the task).")
    body_sha256: str
    created: datetime
    expire_at: datetime = Field(
        description="End of the key's life; Firestore's TTL policy may delete it after.")

    def is_live(self, now: datetime) -> bool:
        """Firestore deletes an expired record up to a day late: until then it is ignored."""
        return now < self.expire_at

    def check_body(self, digest: str) -> None:
        """Raise `IdempotencyKeyReused` unless `digest` is the body this key first came with."""
        if digest != self.body_sha256:
            raise IdempotencyKeyReused(
                f"The {HEADER} {self.key!r} was used with another body.",
                details={"idempotency_key": self.key, "expire_at": self.expire_at.isoformat(),
                         "errors": [{"pointer": POINTER, "reason": (
                             "already used with another body: send a new key for a new "
                             "task, or the first request's body to get its task")}]})


def new_record(tenant_id: str, key: str, digest: str, task_id: str,
               now: datetime) -> IdempotencyRecord:
    return IdempotencyRecord(id=record_id(tenant_id, key), tenant_id=tenant_id, key=key,
                             task_id=task_id, body_sha256=digest, created=now,
                             expire_at=now + LIFETIME)
