"""The Firestore usage ledger's writes and reads on a mocked client (the emulator run is in
tests/integration/test_usage_ledger.py): one merge write of increments per charge, a day
read back as the sum of its shards."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from unittest import mock

import pytest
from google.api_core import exceptions as gexc
from google.cloud import firestore

from vss.adapters.firestore_usage import SHARDS, USAGE_DAYS, FirestoreUsageLedger
from vss.domain.usage import LEDGER_RETENTION, NO_USAGE, TenantDay, Usage
from vss.errors import RetryableError

AT = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)


def _ledger(pick: int = 5) -> tuple[FirestoreUsageLedger, mock.Mock]:
    client = mock.Mock()  # a third-party client: mocked, not faked
    ledger = FirestoreUsageLedger(client, pick=lambda n: pick if n == SHARDS else -1)
    client.collection.assert_called_once_with(USAGE_DAYS)
    return ledger, client.collection.return_value


def test_a_charge_is_one_merge_write_of_increments_to_a_shard_of_the_utc_day():
    ledger, days = _ledger(pick=5)
    ledger.charge("t_a", AT, Usage(llm_input_tokens=120, llm_calls=1, cost_usd=0.25))
    days.document.assert_called_once_with("t_a.2026-03-01.5")
    (document,), options = days.document.return_value.set.call_args
    assert options == {"merge": True}
    assert {k: v for k, v in document.items() if k != "usage"} == {
        "tenant_id": "t_a", "day": "2026-03-01", "shard": 5,
        "expire_at": datetime(2026, 3, 1, tzinfo=UTC) + LEDGER_RETENTION}
    assert document["usage"] == {"llm_input_tokens": firestore.Increment(120),
                                 "llm_calls": firestore.Increment(1),
                                 "cost_usd": firestore.Increment(0.25)}


def test_zero_usage_writes_nothing():
    ledger, days = _ledger()
    ledger.charge("t_a", AT, NO_USAGE)
    days.document.assert_not_called()


def test_an_unavailable_database_is_a_retryable_error():
    ledger, days = _ledger()
    days.document.return_value.set.side_effect = gexc.ServiceUnavailable("down")
    with pytest.raises(RetryableError):
        ledger.charge("t_a", AT, Usage(llm_calls=1))


def _snap(tenant: str, day: str, usage: dict[str, Any]) -> mock.Mock:
    fields = {"tenant_id": tenant, "day": day, "usage": usage}
    snap = mock.Mock()
    snap.get.side_effect = fields.__getitem__
    snap.to_dict.return_value = fields
    return snap


def test_reading_sums_the_shards_of_each_tenants_day():
    ledger, days = _ledger()
    query = days.where.return_value.where.return_value
    query.select.return_value.stream.return_value = [
        _snap("t_b", "2026-03-01", {"tts_characters": 10}),
        _snap("t_a", "2026-03-02", {"llm_calls": 1, "cost_usd": 0.1}),
        _snap("t_a", "2026-03-01", {"llm_calls": 2}),
        _snap("t_a", "2026-03-02", {"llm_calls": 3, "cost_usd": 0.2}),
    ]
    assert ledger.days(date(2026, 3, 1), date(2026, 3, 2)) == [
        TenantDay(tenant_id="t_a", day=date(2026, 3, 1), usage=Usage(llm_calls=2)),
        TenantDay(tenant_id="t_b", day=date(2026, 3, 1), usage=Usage(tts_characters=10)),
        TenantDay(tenant_id="t_a", day=date(2026, 3, 2),
                  usage=Usage(llm_calls=4, cost_usd=0.3)),
    ]
    query.where.assert_not_called()  # every tenant: the range on `day` alone


def test_one_tenants_days_add_an_equality_on_the_tenant():
    ledger, days = _ledger()
    ranged = days.where.return_value.where.return_value
    ranged.where.return_value.select.return_value.stream.return_value = []
    assert ledger.days(date(2026, 3, 1), date(2026, 3, 2), "t_a") == []
    tenant_filter = ranged.where.call_args.kwargs["filter"]
    assert (tenant_filter.field_path, tenant_filter.op_string, tenant_filter.value) == (
        "tenant_id", "==", "t_a")
