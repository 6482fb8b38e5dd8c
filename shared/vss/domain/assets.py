"""An asset's story index: which deployed index answers for (tenant, asset).

One record per tenant and asset names the index manifest of the deploy that last completed;
the manifest and the files it names are attempt-scoped artifacts, written once and never
overwritten, so replacing the record is the whole redeploy: a reader holding the old manifest
path keeps reading the old index, whole.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field


class AssetIndex(BaseModel):
    tenant_id: str
    asset_id: str
    manifest_path: str = Field(description="The index manifest (`IndexManifest`).")
    task_id: str = Field(description="The DEPLOY_RAG_CORPUS task that built it.")
    requested_at: datetime = Field(description="When the deploy was asked for: of two "
                                   "deploys, the one asked for last wins, whatever order they "
                                   "finish in.")
    total_scene_count: int
    index_kind: str
    expire_at: datetime | None = Field(
        None, description="When the deploy's files expire (its task's retention): the record "
        "goes with them (a Firestore TTL policy).")

    def is_live(self, now: datetime) -> bool:
        return self.expire_at is None or now < self.expire_at

    @property
    def id(self) -> str:
        return asset_record_id(self.tenant_id, self.asset_id)


class IndexManifest(BaseModel):
    """What a deploy wrote, in one artifact a narration is pinned to: the index and the facts
    it was built with."""

    asset_id: str
    index_path: str
    documents_path: str
    facts_path: str | None = None
    index_kind: str
    total_scene_count: int


def asset_record_id(tenant_id: str, asset_id: str) -> str:
    """A document id for any (tenant, asset): an asset id may hold characters a document id
    cannot, and tenants never share a record."""
    return hashlib.sha256(f"{tenant_id}\x00{asset_id}".encode()).hexdigest()[:40]


def newer(candidate: AssetIndex, current: AssetIndex | None) -> bool:
    """Whether `candidate` replaces `current`: deploys finishing out of order keep the one
    created last (task ids break a tie)."""
    if current is None:
        return True
    return (candidate.requested_at, candidate.task_id) >= (current.requested_at,
                                                             current.task_id)
