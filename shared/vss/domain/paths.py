"""Relative paths the edge sees, and where they live in Cloud Storage.

A `relative_path` is tenant-relative (`uploads/<file_id>/<name>` or `tasks/<task_id>/<name>`);
the blob is `tenants/<tenant_id>/<relative_path>`, so a path always resolves inside the caller's
tenant and another tenant's file simply does not exist for them (404).
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from urllib.parse import unquote

from vss.errors import BadRequest, PathTraversal

UPLOADS = "uploads"
TASKS = "tasks"
_SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)
MAX_PATH = 512
#: `check_relative_path`'s rule as an ECMA-262 pattern (with `maxLength` MAX_PATH), for the
#: OpenAPI document; tests hold the two to the same answers. `[\s\S]` rather than `.` so a
#: line break cannot hide a `..` segment or a percent escape from the look-aheads.
RELATIVE_PATH_PATTERN = (
    r"^(?![\s\S]*%[0-9A-Fa-f]{2})(?![\s\S]*/\.\.?(?:/|$))"
    r"(?:uploads|tasks)(?:/[^/\\\u0000]+){2,}$"
)


def check_relative_path(path: str) -> str:
    """Return `path` if it is a clean tenant-relative path; raise PathTraversal otherwise.

    Percent-encoding is decoded repeatedly before checking, so `%2e%2e%2f` and double-encoded
    forms are refused like a literal `../`.
    """
    if not path or len(path) > MAX_PATH:
        raise BadRequest("path is empty or too long.", details={"max_length": MAX_PATH})
    decoded = path
    for _ in range(3):
        decoded = unquote(decoded)
    problems = []
    if decoded != path:
        problems.append("percent-encoded characters")
    if decoded.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", decoded):
        problems.append("absolute path")
    if "\\" in decoded or "\x00" in decoded:
        problems.append("backslash or NUL")
    parts = decoded.split("/")
    if any(p in ("..", ".") for p in parts) or "" in parts:
        problems.append("'.', '..' or empty segments")
    if problems:
        raise PathTraversal(
            "path must be a plain relative path inside your files.",
            details={"path": path, "problems": problems},
        )
    if parts[0] not in (UPLOADS, TASKS) or len(parts) < 3:
        raise PathTraversal(
            "path must start with 'uploads/' or 'tasks/' and name a file.",
            details={"path": path},
        )
    return posixpath.normpath(decoded)


def safe_filename(name: str) -> str:
    """A storage-safe version of a client-supplied file name (keeps CJK letters)."""
    base = unicodedata.normalize("NFC", posixpath.basename(name.replace("\\", "/")))
    cleaned = _SAFE_NAME.sub("_", base).strip("._") or "file"
    return cleaned[:120]


def upload_path(file_id: str, filename: str) -> str:
    return f"{UPLOADS}/{file_id}/{safe_filename(filename)}"


def artifact_path(task_id: str, name: str, attempt: str | None = None) -> str:
    """Where attempt `attempt` of a task's stage or segment writes artifact `name`.

    Every attempt writes under its own folder, so an object is written by exactly one attempt
    and never overwritten; a result names only the files of the attempt whose commit won, so a
    stale attempt's files are never published (`vss.domain.leases`). The basename is the
    edge-visible name (`narration_000.wav`, `dubbing_script.json`)."""
    return f"{TASKS}/{task_id}/{attempt}/{name}" if attempt else f"{TASKS}/{task_id}/{name}"


def blob_name(tenant_id: str, relative_path: str) -> str:
    return f"tenants/{tenant_id}/{relative_path}"


def split_blob_name(name: str) -> tuple[str, str] | None:
    """(tenant_id, relative_path) of a blob name, or None when it is not a tenant's file."""
    parts = name.split("/", 2)
    if len(parts) != 3 or parts[0] != "tenants":
        return None
    return parts[1], parts[2]


def owner_id(relative_path: str) -> str:
    """The file id (uploads) or task id (artifacts) a relative path belongs to."""
    return relative_path.split("/")[1]
