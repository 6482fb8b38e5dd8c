"""Uploads pinned to Cloud Storage generations: a file record describes one generation, a late
event for an older one never overwrites it, and stages can read exactly that generation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_edge_api import API, FakeEdgeApi
from tests.support.fakes import FakeBlobStore, FakePublisher, fake_deps
from tests.support.tasks import narration_task
from vss.deps import Deps
from vss.domain.files import FileRecord, FileStatus, record_check, supersedes
from vss.edge.client import EdgeClient
from vss.errors import NotFound
from vss.events import object_generation
from vss.service import uploads
from vss.service.generations import validated_generation
from vss.service.storage import location

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def deps() -> Deps:
    return fake_deps()


def _record(generation: int | None, status: FileStatus = FileStatus.VALID) -> FileRecord:
    return FileRecord(id="f" * 32, tenant_id="t1", relative_path=f"uploads/{'f' * 32}/a.json",
                      filename="a.json", content_type="application/json", status=status,
                      sha256="old", generation=generation, created=NOW, modified=NOW)


def _signed(deps: Deps, data: bytes, name: str = "blueprint.json") -> tuple[str, str, str]:
    """(relative path, bucket, blob) of a signed upload of `data`'s size, not yet PUT."""
    signed = uploads.request_signed_upload(deps, "t1", uploads.SignedUploadRequest(
        filename=name, size=len(data)))
    return (signed.relative_path,
            *location(deps, "t1", signed.relative_path))


def _stored(deps: Deps, relative_path: str) -> FileRecord:
    record = deps.files.get(relative_path.split("/")[1])
    assert record is not None
    return record


# ------------------------------------------------------------------ the ordering rule


def test_a_check_supersedes_an_older_or_unknown_generation_only():
    assert supersedes(5, None)  # nothing recorded yet (a fresh record, or one from before)
    assert supersedes(5, 5)  # a redelivered event
    assert supersedes(6, 5)
    assert not supersedes(4, 5)


def test_record_check_keeps_a_newer_record_as_it_is():
    newer = _record(7)
    assert record_check(newer, 6, {"sha256": "stale", "status": FileStatus.INVALID}) is newer
    applied = record_check(newer, 7, {"sha256": "same"})
    assert (applied.generation, applied.sha256) == (7, "same")
    assert record_check(_record(None), 3, {"sha256": "x"}).generation == 3


# ------------------------------------------------------------------ the upload check


def test_the_check_reads_and_records_the_events_generation(
    deps: Deps, blueprint_bytes: bytes,
):
    path, bucket, blob = _signed(deps, blueprint_bytes)
    generation = deps.blobs.write(bucket, blob, blueprint_bytes, "application/json")
    checked = uploads.check_landed_object(deps, bucket, blob, generation)
    assert checked is not None and checked.status == FileStatus.VALID
    assert checked.generation == generation and checked.size == len(blueprint_bytes)
    assert isinstance(deps.blobs, FakeBlobStore)
    assert deps.blobs.reads[-1] == (bucket, blob, generation)
    assert validated_generation(deps, "t1", path) == generation


def test_the_same_generation_again_records_the_same_verdict(deps: Deps, blueprint_bytes: bytes):
    path, bucket, blob = _signed(deps, blueprint_bytes)
    generation = deps.blobs.write(bucket, blob, blueprint_bytes, "application/json")
    task = narration_task(deps, path)
    first = uploads.check_landed_object(deps, bucket, blob, generation)
    again = uploads.check_landed_object(deps, bucket, blob, generation)
    assert first is not None and again is not None
    assert again.model_dump(exclude={"modified"}) == first.model_dump(exclude={"modified"})
    assert isinstance(deps.publisher, FakePublisher)
    started = [json.loads(data)["task_id"] for _, data, _ in deps.publisher.published]
    assert started == [task.id]  # the task started once


def _overwritten(deps: Deps, bucket: str, blob: str, first: bytes, second: bytes
                 ) -> tuple[int, int]:
    return (deps.blobs.write(bucket, blob, first, "application/json"),
            deps.blobs.write(bucket, blob, second, "application/json"))


def test_a_late_event_for_an_older_generation_never_overwrites_the_newer_record(
    blueprint_bytes: bytes,
):
    # With versioning the older generation is still readable: only the ordering rule stops
    # its verdict from replacing the newer one.
    deps = fake_deps()
    deps.blobs = FakeBlobStore(versioned=True)
    path, bucket, blob = _signed(deps, blueprint_bytes)
    broken = b"{" * len(blueprint_bytes)  # checked INVALID
    old, new = _overwritten(deps, bucket, blob, broken, blueprint_bytes)
    newer = uploads.check_landed_object(deps, bucket, blob, new)
    assert newer is not None and newer.status == FileStatus.VALID
    assert uploads.check_landed_object(deps, bucket, blob, old) is None
    assert _stored(deps, path) == newer


def test_an_event_for_a_generation_that_is_gone_records_nothing(
    deps: Deps, blueprint_bytes: bytes,
):
    path, bucket, blob = _signed(deps, blueprint_bytes)
    old, new = _overwritten(deps, bucket, blob, b"{" * len(blueprint_bytes), blueprint_bytes)
    # The older event arrives first; its bytes were replaced (no versioning): nothing to check.
    assert uploads.check_landed_object(deps, bucket, blob, old) is None
    assert _stored(deps, path).status == FileStatus.AWAITING_UPLOAD
    checked = uploads.check_landed_object(deps, bucket, blob, new)
    assert checked is not None and (checked.status, checked.generation) == (FileStatus.VALID, new)


class _RaceOnRead(FakeBlobStore):
    """Versioned store whose read of `trigger` first runs `meanwhile`: the newer event's whole
    check completes between the older event's look at the record and its transaction."""

    def __init__(self) -> None:
        super().__init__(versioned=True)
        self.trigger: int | None = None
        self.meanwhile: Any = None

    def read(self, bucket: str, name: str, generation: int | None = None) -> bytes:
        if generation is not None and generation == self.trigger:
            self.trigger = None
            self.meanwhile()
        return super().read(bucket, name, generation)


@pytest.mark.parametrize("through_the_api", [True, False], ids=["signed-upload", "direct-write"])
def test_racing_events_are_ordered_inside_the_records_transaction(
    blueprint_bytes: bytes, through_the_api: bool,
):
    deps = fake_deps()
    blobs = _RaceOnRead()
    deps.blobs = blobs
    if through_the_api:
        path, bucket, blob = _signed(deps, blueprint_bytes)
    else:  # no record yet: both events create it, in their transactions
        path = f"uploads/{'a' * 32}/blueprint.json"
        bucket, blob = location(deps, "t1", path)
    broken = b"{" * len(blueprint_bytes)  # checked INVALID
    old, new = _overwritten(deps, bucket, blob, broken, blueprint_bytes)
    newer: list[FileRecord | None] = []
    blobs.trigger = old
    blobs.meanwhile = lambda: newer.append(uploads.check_landed_object(deps, bucket, blob, new))
    assert uploads.check_landed_object(deps, bucket, blob, old) is None
    assert newer[0] is not None and newer[0].generation == new
    stored = _stored(deps, path)
    assert (stored.status, stored.generation) == (FileStatus.VALID, new)
    assert stored.sha256 == newer[0].sha256


def test_an_object_beside_the_one_its_record_names_is_ignored(
    deps: Deps, blueprint_bytes: bytes,
):
    path, bucket, blob = _signed(deps, blueprint_bytes)
    beside = blob.rsplit("/", 1)[0] + "/other.json"
    generation = deps.blobs.write(bucket, beside, blueprint_bytes, "application/json")
    assert uploads.check_landed_object(deps, bucket, beside, generation) is None
    assert _stored(deps, path).status == FileStatus.AWAITING_UPLOAD


# ------------------------------------------------------------------ multipart and stage reads


def test_a_multipart_upload_records_the_generation_its_write_made(
    deps: Deps, blueprint_bytes: bytes,
):
    record = uploads.store_upload(deps, "t1", "blueprint.json", blueprint_bytes)
    bucket, blob = location(deps, "t1", record.relative_path)
    assert isinstance(deps.blobs, FakeBlobStore)
    assert record.generation == deps.blobs.blobs[(bucket, blob)].generation
    assert record.status == FileStatus.UPLOADED
    assert _stored(deps, record.relative_path) == record


def test_a_multipart_upload_keeps_a_check_that_finished_before_it(
    deps: Deps, blueprint_bytes: bytes,
):
    # The finalize event can be handled before store_upload records the generation.
    assert isinstance(deps.blobs, FakeBlobStore)
    write = deps.blobs.write

    def write_then_check(bucket: str, name: str, data: bytes, content_type: str) -> int:
        generation = write(bucket, name, data, content_type)
        uploads.check_landed_object(deps, bucket, name, generation)
        return generation

    deps.blobs.write = write_then_check  # type: ignore[method-assign]
    record = uploads.store_upload(deps, "t1", "blueprint.json", blueprint_bytes)
    assert record.status == FileStatus.VALID and record.generation is not None


def test_validated_generation_names_the_checked_bytes_of_uploads_only(
    deps: Deps, blueprint_bytes: bytes,
):
    path, bucket, blob = _signed(deps, blueprint_bytes)
    assert validated_generation(deps, "t1", path) is None  # nothing landed yet
    generation = deps.blobs.write(bucket, blob, blueprint_bytes, "application/json")
    uploads.check_landed_object(deps, bucket, blob, generation)
    assert validated_generation(deps, "t1", path) == generation
    assert validated_generation(deps, "t2", path) is None  # not that tenant's file
    assert validated_generation(deps, "t1", path + "x") is None  # not the record's
    assert validated_generation(deps, "t1", f"uploads/{'0' * 32}/a.json") is None
    assert validated_generation(deps, "t1", "tasks/abc/narration.json") is None


def test_bytes_written_after_the_check_are_not_read_at_the_validated_generation(
    deps: Deps, blueprint_bytes: bytes,
):
    path, bucket, blob = _signed(deps, blueprint_bytes)
    generation = deps.blobs.write(bucket, blob, blueprint_bytes, "application/json")
    uploads.check_landed_object(deps, bucket, blob, generation)
    deps.blobs.write(bucket, blob, b"never checked", "application/json")
    pinned = validated_generation(deps, "t1", path)
    # Without versioning the checked bytes are gone: the read fails rather than return
    # bytes nobody validated.
    with pytest.raises(NotFound):
        deps.blobs.read(bucket, blob, generation=pinned)


# ------------------------------------------------------------------ the event and the URL


@pytest.mark.parametrize(("data", "expected"), [
    ({"generation": "1796530797449919"}, 1796530797449919),
    ({"generation": 42}, 42),
    ({}, None), ({"generation": None}, None), ({"generation": ""}, None),
    ({"generation": "0"}, None), ({"generation": "-3"}, None), ({"generation": "1e3"}, None),
    ({"generation": True}, None), ({"generation": "١٢"}, None),
])
def test_the_events_generation_is_read_from_the_object_resource(
    data: dict[str, Any], expected: int | None,
):
    assert object_generation(data) == expected


def test_the_signed_put_carries_the_create_only_condition(deps: Deps):
    signed = uploads.request_signed_upload(deps, "t1", uploads.SignedUploadRequest(
        filename="a.json", size=10))
    assert signed.headers["x-goog-if-generation-match"] == "0"


def test_the_edge_client_sends_the_condition_so_its_url_takes_one_put(tmp_path: Path):
    api = FakeEdgeApi()
    client = EdgeClient(API, "i_1", "key", session=api.session(), storage=api.session())
    path = tmp_path / "blueprint.json"
    path.write_bytes(b"{}")
    signed = client.upload_signed(path)
    assert signed["headers"]["x-goog-if-generation-match"] == "0"
    again = client.storage.put(signed["upload_url"], data=b"[]", headers=signed["headers"])
    assert again.status_code == 412
    assert api.files[signed["relative_path"]] == b"{}"
