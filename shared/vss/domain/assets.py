"""An asset's story index: which deployed index answers for (tenant, asset).

One record per tenant and asset names the index manifest of the deploy that last completed;
the manifest and the files it names are attempt-scoped artifacts, written once and never
overwritten, so replacing the record is the whole redeploy: a reader holding the old manifest
path keeps reading the old index, whole. The scene vectors of an embeddings index are stored
the same way: under a scope of their own deploy (`VectorScope`), which its manifest names, so
a redeploy never mixes its vectors with the last one's.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field, model_validator

from vss.domain.story_index import IndexKind, IndexReport


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
    report: IndexReport | None = Field(None, description="What the deploy's build did "
                                       "(absent in records of older versions).")
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
    index_path: str = Field(description="The lexical (BM25) artifact; every deploy has one.")
    documents_path: str
    facts_path: str | None = None
    index_kind: IndexKind = Field(description="What answers searches: the lexical artifact, "
                                  "or the vectors under `vector_scope`.")
    total_scene_count: int
    embedding_model: str | None = Field(None, description="The model the documents were "
                                        "embedded with; a query is embedded with it too.")
    dimensions: int | None = Field(None, ge=1)
    vector_scope: str | None = Field(None, description="The deploy's scope in the vector "
                                     "store (`VectorScope.key`).")

    @model_validator(mode="after")
    def _embeddings_are_located(self) -> IndexManifest:
        if self.index_kind == "embeddings" and not (self.embedding_model and self.vector_scope
                                                    and self.dimensions):
            raise ValueError("an embeddings index names its model, dimensions and vector scope")
        return self


class VectorScope(BaseModel):
    """Where one deploy's scene vectors are kept: every vector of the deploy carries its
    `key`, and a search filters on it, so a search sees one deploy of one tenant's asset."""

    tenant_id: str
    asset_id: str
    key: str
    expire_at: datetime | None = Field(None, description="When the deploy's files expire: "
                                       "the vectors go with them (a Firestore TTL policy).")

    @classmethod
    def of_deploy(cls, tenant_id: str, asset_id: str, documents_path: str,
                  expire_at: datetime | None) -> VectorScope:
        """The scope of the deploy that wrote `documents_path`: an attempt-scoped artifact,
        so each deploy (and each attempt of one) has a scope of its own."""
        key = hashlib.sha256(f"{tenant_id}\x00{asset_id}\x00{documents_path}".encode()
                             ).hexdigest()[:40]
        return cls(tenant_id=tenant_id, asset_id=asset_id, key=key, expire_at=expire_at)


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
