"""Uploads: multipart and signed-URL intake (API), and the check when the object lands."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from vss.deps import Deps
from vss.domain.documents import classify_json
from vss.domain.files import (
    CHECKED,
    FileKind,
    FileRecord,
    FileStatus,
    record_check,
    supersedes,
)
from vss.domain.ids import is_valid_id
from vss.domain.paths import UPLOADS, blob_name, owner_id, split_blob_name, upload_path
from vss.domain.sniff import sniff_content_type
from vss.domain.tasks import Task
from vss.errors import NotFound, PayloadInvalid, PayloadTooLarge, UnsupportedMedia
from vss.service import quotas
from vss.service.spending import charge_upload
from vss.service.storage import location
from vss.service.tasks import release_waiting_tasks

log = logging.getLogger(__name__)

SIGNABLE_TYPES = ("application/json", "audio/wav", "application/x-subrip", "text/x-ssa",
                  "text/vtt", "text/plain")


class SignedUploadRequest(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = "application/json"
    size: int = Field(gt=0)


class SignedUpload(BaseModel):
    relative_path: str
    upload_url: str
    method: str = "PUT"
    headers: dict[str, str]
    expires_at: str


def _check_size(deps: Deps, size: int) -> None:
    if size > deps.settings.max_upload_bytes:
        raise PayloadTooLarge(
            "File is larger than the upload limit.",
            details={"size": size, "max_bytes": deps.settings.max_upload_bytes},
        )


def _record(deps: Deps, file_id: str, tenant_id: str, relative_path: str, filename: str,
            content_type: str, status: FileStatus, **fields: Any) -> FileRecord:
    now = deps.clock()
    return FileRecord(
        id=file_id, tenant_id=tenant_id, relative_path=relative_path,
        filename=filename, content_type=content_type, status=status,
        created=now, modified=now,
        expire_at=now + timedelta(days=deps.settings.file_retention_days), **fields,
    )


def _new_record(deps: Deps, tenant_id: str, filename: str, content_type: str,
                status: FileStatus, **fields: Any) -> FileRecord:
    file_id = uuid.uuid4().hex
    return _record(deps, file_id, tenant_id, upload_path(file_id, filename), filename,
                   content_type, status, **fields)


def store_upload(deps: Deps, tenant_id: str, filename: str, data: bytes) -> FileRecord:
    """Multipart upload: size cap, daily upload quota, sniffed type, sha256; the finalize
    event checks it. Its bytes are charged to the tenant's day once stored."""
    _check_size(deps, len(data))
    quotas.check_upload(deps, tenant_id, len(data))
    content_type = sniff_content_type(data, filename)
    record = _new_record(
        deps, tenant_id, filename, content_type, FileStatus.UPLOADED,
        size=len(data), sha256=hashlib.sha256(data).hexdigest(),
    )
    deps.files.add(record)  # before the bytes, so the finalize event always finds it
    generation = deps.blobs.write(
        *location(deps, tenant_id, record.relative_path), data, content_type
    )

    def written(current: FileRecord) -> FileRecord:
        # The finalize event may have been checked already: it recorded this same generation
        # (or a later one), with its verdict, which must stay.
        if current.generation is not None:
            return current
        return current.model_copy(update={"generation": generation})

    record = deps.files.update(record.id, written)
    charge_upload(deps, tenant_id, len(data))
    log.info("file uploaded", extra={"tenant_id": tenant_id, "file_id": record.id})
    return record


def request_signed_upload(deps: Deps, tenant_id: str, req: SignedUploadRequest) -> SignedUpload:
    """A URL to PUT exactly `req.size` bytes to. The declared size counts against the daily
    upload quota when the URL is issued: that is the API's last word on the upload (the bytes
    go to storage directly), and a URL admits no other size. A URL never used still counts."""
    _check_size(deps, req.size)
    if req.content_type not in SIGNABLE_TYPES:
        raise UnsupportedMedia(
            f"content_type {req.content_type!r} cannot be uploaded.",
            details={"accepted": list(SIGNABLE_TYPES)},
        )
    quotas.check_upload(deps, tenant_id, req.size)
    record = _new_record(
        deps, tenant_id, req.filename, req.content_type, FileStatus.AWAITING_UPLOAD,
        size=req.size, declared_size=req.size,
    )
    deps.files.add(record)
    ttl = deps.settings.signed_url_ttl_seconds
    bucket, blob = location(deps, tenant_id, record.relative_path)
    # Exactly the declared size: a client that declared 10 bytes cannot PUT 20 MiB.
    url, headers = deps.blobs.signed_upload_url(
        bucket, blob, content_type=req.content_type, size=req.size, ttl_seconds=ttl,
    )
    charge_upload(deps, tenant_id, req.size)
    return SignedUpload(
        relative_path=record.relative_path, upload_url=url, headers=headers,
        expires_at=(deps.clock() + timedelta(seconds=ttl)).isoformat(),
    )


def _check(deps: Deps, data: bytes, filename: str, declared_size: int | None
           ) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """(fields to record, errors) for the landed bytes."""
    fields: dict[str, Any] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if len(data) > deps.settings.max_upload_bytes:
        return fields, [{"pointer": "", "reason": "file is larger than the upload limit"}]
    if declared_size is not None and len(data) != declared_size:
        # Storage enforces the signed length range; this also holds where it does not.
        return fields, [{"pointer": "", "reason": f"{len(data)} bytes landed, "
                                                  f"{declared_size} were declared"}]
    try:
        fields["content_type"] = sniff_content_type(data, filename)
    except UnsupportedMedia as exc:
        return fields, [{"pointer": "", "reason": exc.message}]
    if fields["content_type"] != "application/json":
        fields["kind"] = FileKind.OTHER
        return fields, []
    try:
        fields["kind"], fields["summary"] = classify_json(data)
    except PayloadInvalid as exc:
        return fields, list(exc.details.get("errors", []))
    return fields, []


def _upload_of(deps: Deps, bucket: str, name: str) -> tuple[str, str, str] | None:
    """(tenant, relative path, file id) of an object under a name we issue, else None."""
    parsed = split_blob_name(name)
    if bucket != deps.settings.uploads_bucket or parsed is None:
        log.info("object ignored: not a tenant upload", extra={"file_id": name})
        return None
    tenant_id, relative_path = parsed
    if not relative_path.startswith(UPLOADS + "/"):
        return None
    file_id = owner_id(relative_path)
    if not is_valid_id(file_id):  # written straight to the bucket under a name we never issue
        log.warning("object ignored: malformed file id", extra={"tenant_id": tenant_id})
        return None
    return tenant_id, relative_path, file_id


def check_landed_object(
    deps: Deps, bucket: str, name: str, generation: int
) -> FileRecord | None:
    """The upload function's job: validate generation `generation` of the object (the one its
    finalize event is about), record it, start waiting tasks.

    The record keeps the generation its verdict is about, so stages read exactly the bytes
    that were checked. An event for a generation older than the recorded one, or for one that
    no longer exists (overwritten or deleted), records nothing and returns None. Idempotent: a
    duplicate event re-checks the same bytes and records the same result.
    """
    upload = _upload_of(deps, bucket, name)
    if upload is None:
        return None
    tenant_id, relative_path, file_id = upload
    extra = {"tenant_id": tenant_id, "file_id": file_id}
    existing = deps.files.get(file_id)
    if existing is not None and (existing.tenant_id, existing.relative_path) != (
            tenant_id, relative_path):
        # Same file id, another object (a direct write beside ours): its check must not
        # become the verdict on the file the record names.
        log.warning("object ignored: its file record names another object", extra=extra)
        return None
    if existing is not None and not supersedes(generation, existing.generation):
        log.info("upload event for generation %s ignored: %s is recorded", generation,
                 existing.generation, extra=extra)
        return None
    try:
        data = deps.blobs.read(bucket, name, generation=generation)
    except NotFound:
        # Replaced or deleted since: the event for the newer generation (if any) checks it.
        log.info("upload event for generation %s ignored: it is gone", generation, extra=extra)
        return None
    declared = existing.declared_size if existing else None
    filename = relative_path.rsplit("/", 1)[-1]
    fields, errors = _check(deps, data, filename, declared)
    status = FileStatus.INVALID if errors else FileStatus.VALID
    update = {**fields, "status": status, "errors": errors, "modified": deps.clock()}
    # Written straight to the bucket, not through the API: the record is created in the
    # same transaction, so a racing event for another generation cannot overwrite it.
    content_type = fields.get("content_type", "application/octet-stream")
    blank = _record(deps, file_id, tenant_id, relative_path, filename, content_type, status)
    # The generation comparison runs again inside the transaction: two events racing past
    # the check above are ordered there.
    record = deps.files.update(
        file_id, lambda r: record_check(r, generation, update), missing=blank
    )
    if record.generation != generation:
        log.info("upload event for generation %s ignored: %s is recorded", generation,
                 record.generation, extra=extra)
        return None
    log.info("file checked: %s (generation %s)", status, generation, extra=extra)
    release_waiting_tasks(deps, record)
    return record



def check_late_uploads(deps: Deps, task: Task) -> None:
    """Run the check of each upload `task` waits on whose storage event is late: an object
    that landed a watchdog period ago and is still unchecked had its event lost (the upload
    function died with it, or the event expired). The check is the event's own, idempotent
    (`check_landed_object`), so an event arriving after it changes nothing."""
    late = deps.clock() - timedelta(seconds=deps.settings.watchdog_seconds)
    bucket = deps.settings.uploads_bucket
    for file_id in task.waiting_on:
        record = deps.files.get(file_id)
        if record is None or record.status in CHECKED or record.modified > late:
            continue
        name = blob_name(record.tenant_id, record.relative_path)
        generation = record.generation or deps.blobs.generation(bucket, name)
        if generation is None:
            continue  # not landed yet: a signed upload still on its way
        log.warning("upload checked by the task's watchdog: its storage event did not come",
                    extra={"task_id": task.id, "file_id": file_id})
        check_landed_object(deps, bucket, name, generation)
