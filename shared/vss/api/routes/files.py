"""Files: uploads (multipart, or a signed URL to PUT to) and downloads (a redirect to a
short-lived signed URL), of the caller's own files and of a completed task's result."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from werkzeug.wrappers import Response as BaseResponse

from vss.api.context import caller, json_body
from vss.api.views import API_PREFIX, uploaded
from vss.app_deps import app_deps
from vss.errors import BadRequest, NotFound, UnsupportedMedia
from vss.service import tasks, uploads
from vss.service.storage import location

blueprint = Blueprint("files", __name__, url_prefix=f"{API_PREFIX}/files")


@blueprint.post("/upload/")
def upload() -> tuple[dict[str, Any], int]:
    """The file itself as multipart field `file`, or JSON asking for a signed upload URL."""
    tenant_id = caller()
    if request.is_json:
        signed = uploads.request_signed_upload(
            app_deps(), tenant_id, json_body(uploads.SignedUploadRequest)
        )
        return signed.model_dump(), 201
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMedia(
            "Send the file as multipart/form-data, or JSON to sign an upload.",
            details={"accepted": ["multipart/form-data", "application/json"]})
    file = request.files.get("file")
    if file is None or not file.filename:
        raise BadRequest("Send the file as multipart field 'file', or JSON to sign an upload.")
    record = uploads.store_upload(app_deps(), tenant_id, file.filename, file.read())
    return uploaded(record).model_dump(), 201


@blueprint.get("/tasks/<task_id>/download/")
def download_result(task_id: str) -> BaseResponse:
    """A redirect to the main artifact of the caller's completed task."""
    tenant_id = caller()
    return _redirect_to(tenant_id, tasks.result_path(app_deps(), tenant_id, task_id))


@blueprint.get("/download/")
def download_file() -> BaseResponse:
    """A redirect to the caller's file at query parameter `path`."""
    tenant_id = caller()
    path = request.args.get("path")
    if not path:
        raise BadRequest("Query parameter 'path' is required.")
    return _redirect_to(tenant_id, path)


def _redirect_to(tenant_id: str, relative_path: str) -> BaseResponse:
    bucket, blob = location(app_deps(), tenant_id, relative_path)
    if not app_deps().blobs.exists(bucket, blob):
        raise NotFound("No such file.", details={"path": relative_path})
    deps = app_deps()
    url = deps.blobs.signed_download_url(bucket, blob, deps.settings.signed_url_ttl_seconds)
    # No body: the answer is the Location (a framework redirect would add an HTML page).
    response = Response(status=302, headers={"Location": url, "Cache-Control": "no-store"})
    del response.headers["Content-Type"]
    return response
