"""The usage ledger in Firestore: sharded daily counters per tenant.

`usage_days/<tenant>.<YYYY-MM-DD>.<shard>` holds `tenant_id`, `day` (ISO text: it sorts as
the days do), `shard`, `expire_at` (a TTL policy: `vss.domain.usage.LEDGER_RETENTION` after
the day), `usage`, the `Usage` counters under their own names, and `upload_bytes`, the bytes
the tenant's uploads were charged (its daily upload quota). A charge is one write of
`firestore.Increment`s to one shard picked at random: no read, no transaction, so charges
never conflict, and a tenant finishing many segments a second spreads them over `SHARDS`
documents (Firestore sustains about one write a second per document). Reading a day sums its
shards, whatever their number: `SHARDS` can change without touching stored days.

Queries (tests/infra/test_firestore.py reads them): every tenant's days in a range is a range
on `day` alone (an automatic index); one tenant's needs the composite index
`usage_days_by_tenant` (infra/terraform/main.tf).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore

from vss.adapters import permissions
from vss.domain.usage import NO_USAGE, TenantDay, Usage, ledger_expiry, utc_day
from vss.errors import RetryableError

USAGE_DAYS = "usage_days"
# Documents a tenant's day is spread over. A fan-out finishes at most `tts_concurrency` (at
# most 100) segments per synthesis, which takes a second or more, and each charges once: over
# 100 documents that stays under about one write a second each. Reading a day is one query.
SHARDS = 100
_TRANSIENT = (gexc.Aborted, gexc.ServiceUnavailable, gexc.DeadlineExceeded,
              gexc.InternalServerError, gexc.TooManyRequests)


def day_document_id(tenant_id: str, day: date, shard: int) -> str:
    # Tenant ids have no "." (vss.domain.ids), so the parts cannot run into each other.
    return f"{tenant_id}.{day.isoformat()}.{shard}"


class FirestoreUsageLedger:
    """The `UsageLedger` port on Firestore. `pick(n)` chooses a shard in [0, n)."""

    def __init__(self, client: firestore.Client, *, shards: int = SHARDS,
                 pick: Callable[[int], int] = random.randrange) -> None:
        self._days = client.collection(USAGE_DAYS)
        self._shards = shards
        self._pick = pick

    def charge(self, tenant_id: str, at: datetime, usage: Usage) -> None:
        permissions.datastore("create", "update")  # a merge write creates a missing shard
        if usage.is_zero:
            return
        day = utc_day(at)
        shard = self._pick(self._shards)
        document: dict[str, Any] = {
            "tenant_id": tenant_id, "day": day.isoformat(), "shard": shard,
            "expire_at": ledger_expiry(day),
            "usage": {name: firestore.Increment(value)
                      for name, value in usage.counters().items()},
        }
        self._increment(day_document_id(tenant_id, day, shard), document)

    def charge_upload(self, tenant_id: str, at: datetime, size: int) -> None:
        """`upload_bytes` beside `usage` in the same shards (an upload is no task's usage)."""
        permissions.datastore("create", "update")
        if size <= 0:
            return
        day = utc_day(at)
        shard = self._pick(self._shards)
        self._increment(day_document_id(tenant_id, day, shard), {
            "tenant_id": tenant_id, "day": day.isoformat(), "shard": shard,
            "expire_at": ledger_expiry(day), "upload_bytes": firestore.Increment(size),
        })

    def _increment(self, document_id: str, document: dict[str, Any]) -> None:
        try:
            # A merge of increments: the missing shard starts at zero, and racing charges all
            # add up (the server applies each increment to the value it holds).
            self._days.document(document_id).set(document, merge=True)
        except _TRANSIENT as exc:
            raise RetryableError("The usage ledger could not be charged now; try again.",
                                 details={"cause": type(exc).__name__}) from exc

    def days(self, since: date, until: date, tenant_id: str | None = None) -> list[TenantDay]:
        permissions.datastore("list")
        query = self._days.where(filter=firestore.FieldFilter("day", ">=", since.isoformat())) \
            .where(filter=firestore.FieldFilter("day", "<=", until.isoformat()))
        if tenant_id is not None:
            query = query.where(filter=firestore.FieldFilter("tenant_id", "==", tenant_id))
        sums: dict[tuple[str, str], Usage] = {}
        uploads: dict[tuple[str, str], int] = {}
        try:
            for snap in query.select(["tenant_id", "day", "usage", "upload_bytes"]).stream():
                key = (snap.get("day"), snap.get("tenant_id"))
                fields = snap.to_dict() or {}
                shard = Usage.model_validate(fields.get("usage") or {})
                sums[key] = sums.get(key, NO_USAGE) + shard
                uploads[key] = uploads.get(key, 0) + int(fields.get("upload_bytes") or 0)
        except _TRANSIENT as exc:
            raise RetryableError("The usage ledger could not be read now; try again.",
                                 details={"cause": type(exc).__name__}) from exc
        return [TenantDay(tenant_id=tenant, day=date.fromisoformat(day), usage=usage,
                          upload_bytes=uploads[(day, tenant)])
                for (day, tenant), usage in sorted(sums.items())]
