"""Which generation of a file a task reads: the one its upload check validated.

Apart from `uploads` so that `storage.TaskFiles` can use it: `uploads` imports `storage`.
"""

from __future__ import annotations

from vss.deps import Deps
from vss.domain.ids import is_valid_id
from vss.domain.paths import UPLOADS, check_relative_path, owner_id


def validated_generation(deps: Deps, tenant_id: str, relative_path: str) -> int | None:
    """The generation of `relative_path` a task must read: the one its file record's verdict
    is about. None for task artifacts (written once, by one attempt, and never overwritten:
    `vss.domain.paths.artifact_path`) and for an upload with no record of this tenant and
    path, or whose record names no generation (recorded before generations were)."""
    path = check_relative_path(relative_path)
    if not path.startswith(UPLOADS + "/"):
        return None
    file_id = owner_id(path)
    record = deps.files.get(file_id) if is_valid_id(file_id) else None
    if record is None or record.tenant_id != tenant_id or record.relative_path != path:
        return None
    return record.generation
