"""A file the edge uploaded: recorded by the API, checked by the upload function."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vss.domain.quotas import QuotaOverrides


class FileStatus(StrEnum):
    AWAITING_UPLOAD = "AWAITING_UPLOAD"  # signed URL issued, bytes not there yet
    UPLOADED = "UPLOADED"  # bytes stored, not checked yet
    VALID = "VALID"
    INVALID = "INVALID"


class FileKind(StrEnum):
    DATASET = "dataset"
    NARRATION_SCRIPT = "narration_script"
    DUBBING_SCRIPT = "dubbing_script"
    CHARACTER_FACTS = "character_facts"
    OTHER = "other"


CHECKED = frozenset({FileStatus.VALID, FileStatus.INVALID})


class FileRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    relative_path: str
    filename: str
    content_type: str
    size: int | None = None
    declared_size: int | None = Field(
        None, description="Size announced for a signed upload; the landed object must match."
    )
    sha256: str | None = None
    generation: int | None = Field(
        None, description="Cloud Storage generation of the object that `size`, `sha256` and "
                          "`status` describe; stages read exactly this generation.",
    )
    status: FileStatus
    kind: FileKind | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)
    created: datetime
    modified: datetime
    expire_at: datetime | None = Field(
        None, description="When Firestore's TTL policy may delete this record."
    )


def supersedes(generation: int, recorded: int | None) -> bool:
    """Whether the check of `generation` may replace a record of `recorded`.

    Cloud Storage gives every write of one object name a larger generation, so a smaller one
    comes from a finalize event delivered late (events are not ordered): its verdict is about
    bytes that are no longer the record's and must not overwrite the newer one. The same
    generation again is a redelivered event, which re-records the same verdict.
    """
    return recorded is None or generation >= recorded


def record_check(record: FileRecord, generation: int, fields: dict[str, Any]) -> FileRecord:
    """`record` with the check of `generation` (`fields`) applied, or `record` itself (the
    same object, so a repository can skip the write) when that generation is older."""
    if not supersedes(generation, record.generation):
        return record
    return record.model_copy(update={**fields, "generation": generation})


class Tenant(BaseModel):
    id: str
    name: str
    created: datetime
    # The tenant's own quota limits; a field left None takes the default (`VSS_QUOTA_*`).
    quotas: QuotaOverrides = Field(default_factory=QuotaOverrides)


class Instance(BaseModel):
    """An edge instance: one API key (stored as a hash) acting for one tenant."""

    id: str
    tenant_id: str
    key_hash: str
    key_prefix: str
    active: bool = True
    created: datetime
    rotated: datetime | None = None
