"""The state file `vss run` keeps in its output folder (`.vss-run.json`), so a second run with
the same dataset and options picks up where the first stopped: no second upload when the
dataset's bytes are already there, no second task while the first can finish or resume (nor
after a creation cut short: its Idempotency-Key is kept), no second download of a file whose
bytes are already here and verified."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

STATE_FILE = ".vss-run.json"
VERSION = 1


class DatasetState(BaseModel):
    file: str
    sha256: str
    relative_path: str | None = None


class FileState(BaseModel):
    """A downloaded artifact: where it is here, and what was checked."""

    name: str
    size: int
    sha256: str
    checked: str  # vss.edge.checksums.BY_RECORD | BY_HASH | BY_LENGTH | UNCHECKED


class RunState(BaseModel):
    version: int = VERSION
    fingerprint: str
    api_url: str
    instance_id: str
    dataset: DatasetState
    task_id: str | None = None
    status: str | None = None
    # The Idempotency-Key of the task's creation, saved before the request: a run stopped
    # before the answer came creates again with it and gets the task the API may have made.
    idempotency_key: str | None = None
    files: dict[str, FileState] = Field(default_factory=dict)  # by relative path
    timings: dict[str, float] = Field(default_factory=dict)  # seconds: stages, upload, download
    between_polls: list[str] = Field(default_factory=list)  # stages too quick to time


def fingerprint(dataset_sha256: str, payload: dict[str, Any], api_url: str,
                instance_id: str) -> str:
    """What a task's outcome depends on: the dataset's bytes, the options, and who runs it
    where. The dataset's remote path is left out: it changes with every upload."""
    canonical = json.dumps({"dataset": dataset_sha256, "payload": payload, "api": api_url,
                            "instance": instance_id}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_state(folder: Path) -> RunState | None:
    """The folder's state, or None when there is none or it cannot be read (a run then
    starts afresh rather than failing on a file it wrote itself)."""
    path = folder / STATE_FILE
    try:
        state = RunState.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
    return state if state.version == VERSION else None


def save_state(folder: Path, state: RunState) -> None:
    """Write atomically: a run killed mid-write leaves the previous state, never half a file."""
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".vss-run.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(state.model_dump_json(indent=2))
        os.replace(temporary, folder / STATE_FILE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def is_present(folder: Path, record: FileState) -> bool:
    """The recorded file is still here with the bytes that were verified."""
    path = folder / record.name
    try:
        if path.stat().st_size != record.size:
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == record.sha256
    except OSError:
        return False


def record_rewritten(folder: Path, paths: list[Path]) -> None:
    """Downloaded files of the folder the edge has rewritten (the timeline exports, linked to
    the media here): their new bytes are recorded as theirs, so a later run keeps them rather
    than fetching the cloud's copy again over them."""
    state = load_state(folder)
    if state is None:
        return
    rewritten = {p.name: p for p in paths if p.parent.resolve() == folder.resolve()}
    changed = False
    for record in state.files.values():
        path = rewritten.get(record.name)
        if path is not None:
            data = path.read_bytes()
            record.size, record.sha256 = len(data), hashlib.sha256(data).hexdigest()
            changed = True
    if changed:
        save_state(folder, state)
