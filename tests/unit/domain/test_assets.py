"""Which deploy's index an asset keeps, and whose record it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vss.domain.assets import AssetIndex, asset_record_id, newer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _deploy(task_id: str, asked: datetime, tenant: str = "t1") -> AssetIndex:
    return AssetIndex(tenant_id=tenant, asset_id="a1", manifest_path=f"tasks/{task_id}/m.json",
                      task_id=task_id, requested_at=asked, total_scene_count=3,
                      index_kind="bm25")


def test_deploys_finishing_out_of_order_keep_the_one_asked_for_last():
    earlier, later = _deploy("x", T0), _deploy("y", T0 + timedelta(seconds=1))
    assert newer(later, earlier) and not newer(earlier, later)
    assert newer(earlier, None)
    assert newer(earlier, earlier)  # registering the same deploy again is harmless


def test_tenants_never_share_a_record():
    assert asset_record_id("t1", "a1") != asset_record_id("t2", "a1")
    assert asset_record_id("t1", "a/1") != asset_record_id("t1", "a1")
    assert _deploy("x", T0).id == asset_record_id("t1", "a1")
