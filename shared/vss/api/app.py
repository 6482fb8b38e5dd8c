"""Routes of the edge API. Each route authenticates, parses into a model, calls the service
layer and serialises a view; one error handler turns every error into `{code, message, details}`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from vss.api.openapi import openapi_document
from vss.api.views import API_PREFIX, Health, TaskPage, TaskView, uploaded
from vss.deps import Deps
from vss.domain.idempotency import HEADER as IDEMPOTENCY_KEY
from vss.domain.idempotency import parse_key
from vss.domain.pointers import pointer_errors
from vss.errors import (
    BadRequest,
    NotFound,
    UnexpectedError,
    UnsupportedMedia,
    VssError,
    for_http_status,
)
from vss.observability import current_trace, trace_from_header
from vss.service import auth, idempotency, resume, tasks, uploads
from vss.service.storage import location

log = logging.getLogger(__name__)

M = type[BaseModel]
# Headers of a framework error that describe its HTML page, not the error.
_PAGE_HEADERS = {"content-type", "content-length"}


def _json_body(model: M) -> Any:
    if not request.is_json:
        raise UnsupportedMedia("Send the body as application/json.",
                               details={"accepted": ["application/json"]})
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("Body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadRequest("Body is invalid.", details={"errors": pointer_errors(exc)}) from None


def create_app(deps: Deps) -> Flask:
    app = Flask(__name__)
    app.url_map.strict_slashes = False
    # `//` is answered as the unknown path it is (404), not redirected to another route.
    app.url_map.merge_slashes = False
    # Multipart framing adds a little to the file itself.
    app.config["MAX_CONTENT_LENGTH"] = deps.settings.max_upload_bytes + 64 * 1024
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    def caller() -> str:
        instance = auth.authenticate(
            deps, request.headers.get("X-Instance-ID"), request.headers.get("X-Api-Key")
        )
        return instance.tenant_id

    def base_url() -> str:
        return request.host_url.rstrip("/")

    @app.before_request
    def _trace() -> None:
        current_trace.set(trace_from_header(
            request.headers.get("X-Cloud-Trace-Context") or request.headers.get("traceparent")
        ))

    @app.errorhandler(VssError)
    def _vss_error(exc: VssError) -> tuple[Response, int]:
        if exc.http_status >= 500:
            log.error("request failed: %s", exc.message)
        return jsonify(exc.to_dict()), exc.http_status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        """Routing and protocol errors of the framework, as JSON; their headers (a 405's
        `Allow`) are kept."""
        status = exc.code or 500
        details = {"max_bytes": deps.settings.max_upload_bytes} if status == 413 else None
        error = for_http_status(status, exc.description or "", details)
        response = jsonify(error.to_dict())
        response.status_code = status
        for name, value in exc.get_headers():
            if name.lower() not in _PAGE_HEADERS:
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.exception("unexpected error")
        error = UnexpectedError("Internal error.")
        return jsonify(error.to_dict()), error.http_status

    @app.get(f"{API_PREFIX}/health/")
    def health() -> Any:
        return Health(status="ok", version="0.1.0").model_dump()

    @app.get(f"{API_PREFIX}/openapi.json")
    def openapi() -> Any:
        return openapi_document(base_url(), deps.settings)

    @app.post(f"{API_PREFIX}/files/upload/")
    def upload() -> Any:
        tenant_id = caller()
        if request.is_json:
            signed = uploads.request_signed_upload(
                deps, tenant_id, _json_body(uploads.SignedUploadRequest)
            )
            return signed.model_dump(), 201
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMedia(
                "Send the file as multipart/form-data, or JSON to sign an upload.",
                details={"accepted": ["multipart/form-data", "application/json"]})
        file = request.files.get("file")
        if file is None or not file.filename:
            raise BadRequest("Send the file as multipart field 'file', or JSON to sign an upload.")
        record = uploads.store_upload(deps, tenant_id, file.filename, file.read())
        return uploaded(record).model_dump(), 201

    @app.post(f"{API_PREFIX}/tasks/")
    def create_task() -> Any:
        tenant_id = caller()
        key = parse_key(request.headers.get(IDEMPOTENCY_KEY))
        created = idempotency.create_task(deps, tenant_id, _json_body(tasks.CreateTask), key)
        # 202 from the request that stored the task, 200 for the same task found again.
        status = 200 if created.replayed else 202
        return TaskView.of(created.task, base_url()).model_dump(mode="json"), status

    @app.get(f"{API_PREFIX}/tasks/")
    def list_tasks() -> Any:
        tenant_id = caller()
        size_error = {"pointer": "/query/page_size",
                      "reason": f"an integer from 1 to {deps.settings.page_size_max}"}
        raw_size = request.args.get("page_size", "20")
        # ASCII digits only: int() would also take " 5", "+5", "5_0" and other scripts' digits.
        if not re.fullmatch(r"-?[0-9]+", raw_size):
            raise BadRequest("page_size must be an integer.", details={"errors": [size_error]})
        size = int(raw_size)
        if not 1 <= size <= deps.settings.page_size_max:
            raise BadRequest("page_size out of range.", details={
                "min": 1, "max": deps.settings.page_size_max, "errors": [size_error]})
        found, token = tasks.list_tasks(
            deps, tenant_id, limit=size, page_token=request.args.get("page_token") or None
        )
        page = TaskPage(results=[TaskView.of(t, base_url()) for t in found],
                        next_page_token=token)
        return page.model_dump(mode="json")

    @app.get(f"{API_PREFIX}/tasks/<task_id>/")
    def get_task(task_id: str) -> Any:
        task = tasks.get_task(deps, caller(), task_id)
        return TaskView.of(task, base_url()).model_dump(mode="json")

    @app.post(f"{API_PREFIX}/tasks/<task_id>/resume/")
    def resume_task(task_id: str) -> Any:
        task = resume.resume_task(deps, caller(), task_id)
        return TaskView.of(task, base_url()).model_dump(mode="json")

    @app.post(f"{API_PREFIX}/tasks/<task_id>/cancel/")
    def cancel_task(task_id: str) -> Any:
        task = tasks.cancel_task(deps, caller(), task_id)
        return TaskView.of(task, base_url()).model_dump(mode="json")

    def _redirect_to(tenant_id: str, relative_path: str) -> BaseResponse:
        bucket, blob = location(deps, tenant_id, relative_path)
        if not deps.blobs.exists(bucket, blob):
            raise NotFound("No such file.", details={"path": relative_path})
        url = deps.blobs.signed_download_url(bucket, blob, deps.settings.signed_url_ttl_seconds)
        # No body: the answer is the Location (a framework redirect would add an HTML page).
        response = Response(status=302, headers={"Location": url, "Cache-Control": "no-store"})
        del response.headers["Content-Type"]
        return response

    @app.get(f"{API_PREFIX}/files/tasks/<task_id>/download/")
    def download_result(task_id: str) -> BaseResponse:
        tenant_id = caller()
        return _redirect_to(tenant_id, tasks.result_path(deps, tenant_id, task_id))

    @app.get(f"{API_PREFIX}/files/download/")
    def download_file() -> BaseResponse:
        tenant_id = caller()
        path = request.args.get("path")
        if not path:
            raise BadRequest("Query parameter 'path' is required.")
        return _redirect_to(tenant_id, path)

    return app
