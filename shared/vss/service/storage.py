"""Where a tenant's relative path lives, and typed access to a task's files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from vss.deps import Deps
from vss.domain.paths import UPLOADS, artifact_path, blob_name, check_relative_path
from vss.domain.results import ArtifactDigest
from vss.service.generations import validated_generation


def location(deps: Deps, tenant_id: str, relative_path: str) -> tuple[str, str]:
    """(bucket, blob) of a checked relative path: uploads and artifacts live apart because
    they have different lifecycles."""
    path = check_relative_path(relative_path)
    s = deps.settings
    bucket = s.uploads_bucket if path.startswith(UPLOADS + "/") else s.artifacts_bucket
    return bucket, blob_name(tenant_id, path)


def read_file(deps: Deps, tenant_id: str, relative_path: str) -> bytes:
    """One of the tenant's files; for an upload, exactly the generation its check validated."""
    bucket, blob = location(deps, tenant_id, relative_path)
    generation = validated_generation(deps, tenant_id, relative_path)
    return deps.blobs.read(bucket, blob, generation=generation)


@dataclass
class TaskFiles:
    """An attempt's view of storage: reads the tenant's files, writes the attempt's own
    artifacts under its folder and keeps the digest of each (`written`)."""

    deps: Deps
    tenant_id: str
    task_id: str
    attempt: str | None = None  # the fencing token of the attempt that writes
    written: list[ArtifactDigest] = field(default_factory=list)

    def read(self, relative_path: str) -> bytes:
        return read_file(self.deps, self.tenant_id, relative_path)

    def write(self, name: str, data: bytes, content_type: str) -> str:
        """Write artifact `name` in the attempt's folder; return its relative path."""
        path = artifact_path(self.task_id, name, self.attempt)
        bucket, blob = location(self.deps, self.tenant_id, path)
        self.deps.blobs.write(bucket, blob, data, content_type)
        digest = ArtifactDigest(path=path, sha256=hashlib.sha256(data).hexdigest(),
                                size=len(data))
        self.written = [d for d in self.written if d.path != path] + [digest]
        return path
