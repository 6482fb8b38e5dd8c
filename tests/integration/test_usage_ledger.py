"""The usage ledger on the Firestore emulator: increments spread over shards add up exactly,
however many charges race, and a day is read back as the sum of its shards."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from google.cloud import firestore

from tests.support.stack import stack_settings
from vss.adapters.firestore_usage import SHARDS, USAGE_DAYS, FirestoreUsageLedger
from vss.domain.usage import LEDGER_RETENTION, NO_USAGE, TenantDay, Usage

pytestmark = pytest.mark.integration
DAY = date(2001, 2, 3)  # far from today: other tests' charges never land on it
NOON = datetime(2001, 2, 3, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def db() -> firestore.Client:
    return firestore.Client(project=stack_settings().project_id)


def _tenant() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


def test_racing_charges_add_up_across_the_shards(db: firestore.Client):
    ledger, tenant = FirestoreUsageLedger(db), _tenant()
    charge = Usage(llm_input_tokens=100, llm_output_tokens=10, llm_calls=1,
                   tts_characters=7, cost_usd=0.0125)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: ledger.charge(tenant, NOON, charge), range(40)))
    (found,) = ledger.days(DAY, DAY, tenant)
    assert found.tenant_id == tenant and found.day == DAY
    assert found.usage.model_copy(update={"cost_usd": 0.0}) == Usage(
        llm_input_tokens=4000, llm_output_tokens=400, llm_calls=40, tts_characters=280)
    assert found.usage.cost_usd == pytest.approx(0.5)
    shards = list(db.collection(USAGE_DAYS).where(
        filter=firestore.FieldFilter("tenant_id", "==", tenant)).stream())
    assert 1 < len(shards) <= SHARDS  # 40 random picks of SHARDS use more than one


def test_a_shard_carries_its_query_fields_and_a_ttl_timestamp(db: firestore.Client):
    tenant = _tenant()
    FirestoreUsageLedger(db, pick=lambda n: n - 1).charge(tenant, NOON, Usage(llm_calls=2))
    doc = db.collection(USAGE_DAYS).document(f"{tenant}.{DAY.isoformat()}.{SHARDS - 1}") \
        .get().to_dict()
    assert doc is not None
    assert (doc["tenant_id"], doc["day"], doc["shard"]) == (tenant, "2001-02-03", SHARDS - 1)
    # TTL policies only act on Timestamp values, which the client returns as datetimes.
    assert doc["expire_at"] == datetime(2001, 2, 3, tzinfo=UTC) + LEDGER_RETENTION
    assert doc["usage"] == {"llm_calls": 2}  # only the counters charged


def test_days_are_utc_days_read_in_a_range_for_one_or_every_tenant(db: firestore.Client):
    ledger, first, second = FirestoreUsageLedger(db), _tenant(), _tenant()
    late = datetime(2001, 2, 3, 23, 30, tzinfo=UTC)
    ledger.charge(first, late, Usage(tts_characters=5))
    # Still the 3rd where the clock is UTC-5, but 00:30 on the 4th in UTC.
    ledger.charge(first, datetime(2001, 2, 3, 19, 30, tzinfo=timezone(timedelta(hours=-5))),
                  Usage(tts_characters=3))
    ledger.charge(second, late, Usage(tts_characters=11))
    ledger.charge(second, late, NO_USAGE)  # writes nothing
    mine = {first, second}
    both = [d for d in ledger.days(DAY, DAY + timedelta(days=1)) if d.tenant_id in mine]
    assert both == sorted([
        TenantDay(tenant_id=first, day=DAY, usage=Usage(tts_characters=5)),
        TenantDay(tenant_id=second, day=DAY, usage=Usage(tts_characters=11)),
        TenantDay(tenant_id=first, day=DAY + timedelta(days=1),
                  usage=Usage(tts_characters=3)),
    ], key=lambda d: (d.day, d.tenant_id))
    assert ledger.days(DAY, DAY, first) == [
        TenantDay(tenant_id=first, day=DAY, usage=Usage(tts_characters=5))]
    assert ledger.days(DAY - timedelta(days=2), DAY - timedelta(days=1), first) == []


def test_upload_bytes_add_up_beside_the_usage_of_the_same_day(db: firestore.Client):
    ledger, tenant = FirestoreUsageLedger(db), _tenant()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: ledger.charge_upload(tenant, NOON, 1000), range(20)))
    ledger.charge(tenant, NOON, Usage(tts_characters=5))
    (found,) = ledger.days(DAY, DAY, tenant)
    assert found.upload_bytes == 20_000 and found.usage == Usage(tts_characters=5)
    uploads_only = _tenant()
    ledger.charge_upload(uploads_only, NOON, 7)
    assert ledger.days(DAY, DAY, uploads_only) == [
        TenantDay(tenant_id=uploads_only, day=DAY, usage=NO_USAGE, upload_bytes=7)]
