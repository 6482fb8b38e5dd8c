"""Uploads pinned to generations, on fake-gcs-server and the Firestore emulator: the adapter
reads exactly a given generation, the upload check records the one it validated, and a later,
different object never becomes that record's verdict.

The checks run on buckets of their own: the stack's on_upload function watches the uploads
bucket and would check these objects too, racing the test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Callable

import pytest
import requests
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import firestore, storage  # type: ignore[attr-defined]

from tests.support.fakes import fake_ports
from tests.support.paths import BLUEPRINT
from tests.support.stack import stack_settings
from vss.adapters.firestore_repos import FirestoreFileRepository, FirestoreTaskRepository
from vss.adapters.gcs import GcsBlobStore
from vss.bootstrap import for_on_upload
from vss.deps import Deps, utc_now
from vss.domain.files import FileRecord, FileStatus
from vss.errors import NotFound
from vss.service import uploads
from vss.service.generations import validated_generation
from vss.service.storage import location

pytestmark = pytest.mark.integration

LIVE_ONLY = "vss-test-generations"  # no versioning, as Terraform creates the uploads bucket
VERSIONED = "vss-test-generations-versioned"  # older generations stay readable
DATASET = BLUEPRINT.read_bytes()  # checked VALID
BROKEN = b"{" * len(DATASET)  # the same size, checked INVALID


def _bucket(client: storage.Client, name: str, *, versioned: bool) -> None:
    bucket = client.bucket(name)
    bucket.versioning_enabled = versioned
    with contextlib.suppress(gexc.Conflict):  # made by an earlier run against this stack
        bucket.create()


@pytest.fixture(scope="module")
def gcs() -> storage.Client:
    settings = stack_settings()
    client = storage.Client(project=settings.project_id, credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": settings.storage_emulator_host})
    _bucket(client, LIVE_ONLY, versioned=False)
    _bucket(client, VERSIONED, versioned=True)
    return client


def _store(gcs: storage.Client) -> GcsBlobStore:
    settings = stack_settings()
    return GcsBlobStore(gcs, public_url=settings.storage_public_url,
                        signer_key_file=settings.signer_key_file)


@pytest.fixture(scope="module")
def store(gcs: storage.Client) -> GcsBlobStore:
    return _store(gcs)


def _deps(store: GcsBlobStore, uploads_bucket: str) -> Deps:
    """The upload check on the emulators: records in Firestore (tasks too: the check looks
    for the tasks waiting on the file there), bytes in fake-gcs, fakes for the rest."""
    db = firestore.Client(project=stack_settings().project_id)
    ports = dataclasses.replace(
        fake_ports(uploads_bucket=uploads_bucket), tasks=FirestoreTaskRepository(db),
        files=FirestoreFileRepository(db), blobs=store, clock=utc_now)
    return for_on_upload(ports.settings, ports)


def _signed_put(gcs: storage.Client, deps: Deps, data: bytes) -> tuple[str, str, str, int]:
    """(relative path, bucket, blob, generation): a signed upload PUT as the edge does it."""
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    signed = uploads.request_signed_upload(deps, tenant, uploads.SignedUploadRequest(
        filename="doc.json", size=len(data)))
    put = requests.put(signed.upload_url, data=data, headers=signed.headers, timeout=30)
    assert put.status_code == 200, put.text
    bucket, blob = location(deps, tenant, signed.relative_path)
    return signed.relative_path, bucket, blob, _live_generation(gcs, bucket, blob)


def _live_generation(gcs: storage.Client, bucket: str, blob: str) -> int:
    found = gcs.bucket(bucket).get_blob(blob)
    assert found is not None and found.generation is not None
    return int(found.generation)


def _record(deps: Deps, relative_path: str) -> FileRecord:
    record = deps.files.get(relative_path.split("/")[1])
    assert record is not None
    return record


def test_the_adapter_reads_exactly_the_generation_asked_for(store: GcsBlobStore):
    name = f"generations/{uuid.uuid4().hex}.json"
    first = store.write(VERSIONED, name, b"first", "application/json")
    second = store.write(VERSIONED, name, b"second", "application/json")
    assert second > first
    assert store.read(VERSIONED, name) == b"second"
    assert store.read(VERSIONED, name, generation=first) == b"first"
    assert store.read(VERSIONED, name, generation=second) == b"second"
    # Without versioning the overwritten generation is gone: NotFound, never the live bytes.
    store.write(LIVE_ONLY, name, b"first", "application/json")
    live = store.write(LIVE_ONLY, name, b"second", "application/json")
    with pytest.raises(NotFound):
        store.read(LIVE_ONLY, name, generation=first)
    with pytest.raises(NotFound):
        store.read(LIVE_ONLY, name, generation=live + 1)
    assert store.read(LIVE_ONLY, name, generation=live) == b"second"


def test_a_multipart_upload_records_the_generation_storage_gave_it(
    gcs: storage.Client, store: GcsBlobStore,
):
    deps = _deps(store, LIVE_ONLY)
    record = uploads.store_upload(deps, f"t-{uuid.uuid4().hex[:8]}", "doc.json", DATASET)
    bucket, blob = location(deps, record.tenant_id, record.relative_path)
    assert record.generation == _live_generation(gcs, bucket, blob)
    assert _record(deps, record.relative_path).generation == record.generation


def test_the_record_keeps_the_validated_generation_when_another_object_lands_later(
    gcs: storage.Client, store: GcsBlobStore,
):
    deps = _deps(store, LIVE_ONLY)
    path, bucket, blob, first = _signed_put(gcs, deps, DATASET)
    checked = uploads.check_landed_object(deps, bucket, blob, first)
    assert checked is not None and (checked.status, checked.generation) == (FileStatus.VALID,
                                                                           first)
    # Other bytes of the same size land (a direct write; Cloud Storage refuses a second PUT
    # of the URL, fake-gcs does not): until their own event is checked, the record and the
    # generation a stage reads still name the validated bytes, which are gone now.
    second = store.write(bucket, blob, BROKEN, "application/json")
    assert _record(deps, path) == checked
    assert validated_generation(deps, checked.tenant_id, path) == first
    with pytest.raises(NotFound):
        store.read(bucket, blob, generation=first)
    assert uploads.check_landed_object(deps, bucket, blob, first) is None  # a redelivery
    assert _record(deps, path) == checked
    # The newer generation's event moves the record on, and the older never brings it back.
    newer = uploads.check_landed_object(deps, bucket, blob, second)
    assert newer is not None and (newer.status, newer.generation) == (FileStatus.INVALID, second)
    assert uploads.check_landed_object(deps, bucket, blob, first) is None
    assert _record(deps, path) == newer


def _racing(gcs: storage.Client, trigger: int, meanwhile: Callable[[], object]) -> GcsBlobStore:
    """A blob store whose read of generation `trigger` first runs `meanwhile`."""
    store = _store(gcs)
    read = store.read

    def racing_read(bucket: str, name: str, generation: int | None = None) -> bytes:
        if generation == trigger:
            meanwhile()
        return read(bucket, name, generation)

    store.read = racing_read  # type: ignore[method-assign]
    return store


def test_an_older_generation_checked_last_never_overwrites_the_newer_record(
    gcs: storage.Client, store: GcsBlobStore,
):
    """The newer event is checked while the older one reads its bytes (still there: the
    bucket keeps versions), so both pass the first look at the record: the comparison in
    the record's Firestore transaction is what keeps the newer verdict."""
    deps = _deps(store, VERSIONED)
    path, bucket, blob, first = _signed_put(gcs, deps, BROKEN)
    second = store.write(bucket, blob, DATASET, "application/json")
    newer: list[FileRecord | None] = []
    deps.blobs = _racing(gcs, first, lambda: newer.append(
        uploads.check_landed_object(deps, bucket, blob, second)))
    assert uploads.check_landed_object(deps, bucket, blob, first) is None
    assert newer[0] is not None and newer[0].status == FileStatus.VALID
    assert _record(deps, path) == newer[0]
    assert validated_generation(deps, newer[0].tenant_id, path) == second
