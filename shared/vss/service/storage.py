"""Where a tenant's relative path lives, and typed access to a task's files."""

from __future__ import annotations

from dataclasses import dataclass

from vss.deps import Deps
from vss.domain.paths import UPLOADS, artifact_path, blob_name, check_relative_path


def location(deps: Deps, tenant_id: str, relative_path: str) -> tuple[str, str]:
    """(bucket, blob) of a checked relative path: uploads and artifacts live apart because
    they have different lifecycles."""
    path = check_relative_path(relative_path)
    s = deps.settings
    bucket = s.uploads_bucket if path.startswith(UPLOADS + "/") else s.artifacts_bucket
    return bucket, blob_name(tenant_id, path)


@dataclass
class TaskFiles:
    """A task's view of storage: reads the tenant's files, writes its own artifacts."""

    deps: Deps
    tenant_id: str
    task_id: str

    def read(self, relative_path: str) -> bytes:
        return self.deps.blobs.read(*location(self.deps, self.tenant_id, relative_path))

    def write(self, name: str, data: bytes, content_type: str) -> str:
        """Write artifact `name` at its deterministic path; return its relative path."""
        path = artifact_path(self.task_id, name)
        bucket, blob = location(self.deps, self.tenant_id, path)
        self.deps.blobs.write(bucket, blob, data, content_type)
        return path
