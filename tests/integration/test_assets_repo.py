"""The story index records in the Firestore emulator: one per tenant and asset, the deploy
asked for last kept whatever order deploys register in, and no tenant sees another's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.cloud import firestore

from tests.support.stack import stack_settings
from vss.adapters.firestore_repos import FirestoreAssetRepository
from vss.domain.assets import AssetIndex

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def repo() -> FirestoreAssetRepository:
    return FirestoreAssetRepository(firestore.Client(project=stack_settings().project_id))


def _deploy(tenant: str, asset: str, task: str, asked: datetime) -> AssetIndex:
    return AssetIndex(tenant_id=tenant, asset_id=asset, manifest_path=f"tasks/{task}/m.json",
                      task_id=task, requested_at=asked, total_scene_count=63,
                      index_kind="bm25", expire_at=asked + timedelta(days=90))


def test_the_deploy_asked_for_last_is_kept(repo: FirestoreAssetRepository):
    tenant, asset = f"t_{uuid.uuid4().hex[:8]}", "asset:1.a-b"
    later = _deploy(tenant, asset, "later", T0 + timedelta(seconds=5))
    assert repo.put(later)
    assert not repo.put(_deploy(tenant, asset, "earlier", T0))  # finished last, asked first
    assert repo.get(tenant, asset) == later
    assert repo.put(later)  # the same deploy again: harmless


def test_tenants_see_only_their_own(repo: FirestoreAssetRepository):
    mine, theirs = f"t_{uuid.uuid4().hex[:8]}", f"t_{uuid.uuid4().hex[:8]}"
    repo.put(_deploy(mine, "a1", "m1", T0))
    repo.put(_deploy(theirs, "a1", "t1", T0))
    assert [a.task_id for a in repo.list_for_tenant(mine)] == ["m1"]
    assert repo.delete(theirs, "a1") and not repo.delete(theirs, "a1")
    assert repo.get(theirs, "a1") is None and repo.get(mine, "a1") is not None
