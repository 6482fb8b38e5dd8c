"""The OpenAPI 3.1 document: every route with each status and content type it can answer, the
API-key headers as a security scheme, and links from a created task to what can be done with it.

Schemas come from the pydantic models the routes use (vss.api.components); the limits that live
in the settings (page size, upload size, priced models) are read from them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from vss.api.components import ID, RELATIVE_PATH, component_schemas, ref
from vss.api.conditional import CACHE_CONTROL, ETAG_HEX_DIGITS
from vss.api.views import (
    API_PREFIX,
    DEFAULT_K,
    MAX_QUERY_CHARS,
    QUERY_PATTERN,
    AssetPage,
    ErrorBody,
    Health,
    SearchResults,
    TaskPage,
    TaskView,
    UploadedFile,
)
from vss.config import Settings
from vss.domain.idempotency import HEADER, KEY_PATTERN, LIFETIME, MAX_KEY_LENGTH, POINTER
from vss.domain.payloads import ASSET_ID_PATTERN, MAX_RAG_TOP_K, PAYLOADS
from vss.errors import (
    IdempotencyKeyReused,
    LlmTokensQuotaExceeded,
    PayloadInvalid,
    RunningTasksQuotaExceeded,
    TasksPerHourQuotaExceeded,
    TtsCharactersQuotaExceeded,
    UploadBytesQuotaExceeded,
)
from vss.service.uploads import SIGNABLE_TYPES, SignedUpload, SignedUploadRequest

VERSION = "0.1.0"
_AUTH: list[dict[str, list[str]]] = [{"instanceId": [], "apiKey": []}]
_WHY = {
    400: "The request is malformed or invalid; `details.errors` points at each problem "
         "(JSON Pointers) where there is one.",
    401: "X-Instance-ID or X-Api-Key is missing, unknown, revoked or does not match.",
    404: "No such resource for this tenant (another tenant's resources do not exist for you).",
    409: "The task is in a state that does not allow this.",
    413: "The body (or the declared size) is over the upload limit; `details.max_bytes`.",
    415: "The body's media type, or the declared or sniffed file type, is not accepted.",
    422: f"The {HEADER} was used with another body (code {IdempotencyKeyReused.code}); "
         "`details.idempotency_key` names it.",
    425: "The task has not completed yet: poll it and come back.",
    429: "A quota of your tenant would be exceeded: `code` names it, `details` is `{quota, "
         "limit, used, requested, retry_after_seconds}`. Nothing was created; try again after "
         "`Retry-After` seconds.",
    500: "An unexpected error.",
    503: "A dependency is briefly unavailable: retry with backoff. Nothing was created.",
}


RUNNING, PER_HOUR = RunningTasksQuotaExceeded.code, TasksPerHourQuotaExceeded.code
UPLOAD, TTS = UploadBytesQuotaExceeded.code, TtsCharactersQuotaExceeded.code
TOKENS = LlmTokensQuotaExceeded.code
_HOURS = int(LIFETIME.total_seconds() // 3600)
IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": HEADER, "in": "header", "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH,
               "pattern": KEY_PATTERN},
    "description": f"Makes the creation safe to retry (e.g. a fresh UUID per new task). For "
                   f"{_HOURS} h after its first use, the same key with the same body (compared "
                   "as canonical JSON) answers 200 with the task the first request created, in "
                   "whatever state it is, and creates nothing; with another body it is a 422. "
                   "Keys are per tenant. A request refused with 400, 404 or 429 does not use its "
                   f"key. 1-{MAX_KEY_LENGTH} printable ASCII characters, no space at either "
                   f"end; else a 400 pointing at `{POINTER}`.",
}


IF_NONE_MATCH: dict[str, Any] = {
    "name": "If-None-Match", "in": "header", "required": False,
    "schema": {"type": "string"},
    "description": "The `ETag` of the task as you last read it (or a list of them, or `*`): "
                   "while the task still answers with that body, the answer is a 304 without "
                   "one. Compared weakly (a `W/` prefix is ignored); a value that names no "
                   "entity tag matches nothing.",
}
# Headers of every answer of a conditional GET, the 304 included.
_REVALIDATION_HEADERS: dict[str, Any] = {
    "ETag": {"required": True,
             "description": "A strong entity tag of the body (part of its sha256): send it "
                            "back as If-None-Match.",
             "schema": {"type": "string", "pattern": f'^"[0-9a-f]{{{ETAG_HEX_DIGITS}}}"$'}},
    "Cache-Control": {"required": True, "description": "Keep it, but revalidate every use.",
                      "schema": {"type": "string", "const": CACHE_CONTROL}},
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(names: dict[Any, str], *statuses: int,
            why: dict[int, str] | None = None) -> dict[str, Any]:
    """The error answers of a route; `why` says what a status means there, where it differs
    from `_WHY`."""
    body = ref(names[ErrorBody])
    reasons = {**_WHY, **(why or {})}
    answers = {str(s): _json(body, f"`{{code, message, details}}`. {reasons[s]}")
               for s in (*statuses, 500)}
    if "429" in answers:
        answers["429"]["headers"] = _RETRY_AFTER
    return answers


_RETRY_AFTER: dict[str, Any] = {"Retry-After": {
    "required": True, "schema": {"type": "integer", "minimum": 1},
    "description": "Seconds until the request could fit: 30 for running tasks, until the "
                   "oldest task of the last hour leaves it for tasks per hour, until the next "
                   "UTC midnight for the daily quotas."}}


def _redirect(description: str) -> dict[str, Any]:
    return {"description": description, "headers": {
        "Location": {"required": True, "description": "A short-lived signed URL.",
                     "schema": {"type": "string", "format": "uri"}},
        "Cache-Control": {"required": True, "schema": {"type": "string", "const": "no-store"}},
    }}


def _task_links(*targets: str) -> dict[str, Any]:
    return {target: {"operationId": target, "parameters": {"task_id": "$response.body#/id"}}
            for target in targets}


def _revalidate_link() -> dict[str, Any]:
    """Poll the task again, conditionally on the answer just read."""
    return {"operationId": "getTask", "parameters": {
        "task_id": "$response.body#/id", "header.If-None-Match": "$response.header.ETag"}}


def _upload_links() -> dict[str, Any]:
    """What an upload is for: the file it names can be every required input of a new task (of
    any type whose required fields are all input files: a file still being checked makes the
    task wait, so any upload will do)."""
    links: dict[str, Any] = {"downloadFile": {"operationId": "downloadFile", "parameters": {
        "path": "$response.body#/relative_path"}}}
    for task_type, model in PAYLOADS.items():
        required = [name for name, field in model.model_fields.items() if field.is_required()]
        if not all(name.endswith("_path") for name in required):
            continue  # DEPLOY_RAG_CORPUS needs its asset's id too
        inputs = dict.fromkeys(required, "$response.body#/relative_path")
        links[f"createTask_{task_type.value}"] = {"operationId": "createTask", "requestBody": {
            "task_type": task_type.value, "payload": inputs}}
    return links


def _create_errors(names: dict[Any, str]) -> dict[str, Any]:
    errors = _errors(names, 400, 401, 404, 413, 415, 422, 429, 503, why={429: (
        f"A quota of your tenant would be exceeded: running tasks ({RUNNING}), tasks per hour "
        f"({PER_HOUR}), or today's speech characters ({TTS}) or model tokens ({TOKENS}) are "
        "already at their limit. `details` is `{quota, limit, used, requested, "
        "retry_after_seconds}`; nothing was created and the Idempotency-Key is not used: "
        "try again after `Retry-After` seconds.")})
    # The task may be stored when its first stage could not be published: a retry with the
    # same key gets it, where one without a key would create a second task.
    errors["503"]["description"] = (
        "`{code, message, details}`. A dependency is briefly unavailable: retry with backoff "
        f"and the same {HEADER}, which answers with the task if one was stored.")
    return errors


def _paths(names: dict[Any, str], page_size_max: int) -> dict[str, Any]:
    task_id = [{"name": "task_id", "in": "path", "required": True, "schema": ID,
                "description": "The `id` of one of your tasks."}]
    asset_id = [{"name": "asset_id", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": ASSET_ID_PATTERN},
                 "description": "The `asset_id` a DEPLOY_RAG_CORPUS task of yours named."}]
    task = ref(names[TaskView])
    created_links = _task_links("getTask", "cancelTask", "downloadTaskResult")
    return {
        f"{API_PREFIX}/health/": {"get": {
            "operationId": "getHealth", "summary": "Liveness", "security": [],
            "responses": {"200": _json(ref(names[Health]), "Up."), **_errors(names)}}},
        f"{API_PREFIX}/openapi.json": {"get": {
            "operationId": "getOpenApi", "summary": "This OpenAPI 3.1 document", "security": [],
            "responses": {"200": _json({"type": "object"}, "The document."),
                          **_errors(names)}}},
        f"{API_PREFIX}/files/upload/": {"post": {
            "operationId": "uploadFile",
            "summary": "Upload a file (multipart field `file`), or ask for a signed PUT URL (JSON)",
            "description": "A multipart upload is stored and checked; its type is sniffed from "
                           "its bytes (JSON, UTF-8 text or subtitles, WAV), anything else is a "
                           "415. A JSON request answers with a URL to PUT exactly `size` bytes.",
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}}},
                    # The types a file may be (sniffed from its bytes; anything else is 415).
                    "encoding": {"file": {"contentType": ", ".join(SIGNABLE_TYPES)}}},
                "application/json": {"schema": ref(names[SignedUploadRequest])}}},
            "responses": {
                "201": {**_json({"oneOf": [ref(names[UploadedFile]), ref(names[SignedUpload])]},
                                "Stored (multipart) or signed (JSON)."),
                        "links": _upload_links()},
                **_errors(names, 400, 401, 413, 415, 429, why={429: (
                    f"Today's upload bytes would pass your tenant's quota (code {UPLOAD}; a "
                    "signed upload counts its declared size when the URL is issued). "
                    "`details` is `{quota, limit, used, requested, retry_after_seconds}`; "
                    "try again after `Retry-After` seconds (the next UTC day).")})}}},
        f"{API_PREFIX}/tasks/": {
            "post": {
                "operationId": "createTask", "summary": "Create a task",
                "description": "Every `*_path` names one of your files; one still being checked "
                               "makes the task wait for it. A path that names no file is a 404. "
                               f"Send an `{HEADER}` to retry safely.",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": ref("CreateTask")}}},
                "responses": {
                    "202": {**_json(task, "Accepted: poll it."), "links": created_links},
                    "200": {**_json(task, f"The task an earlier request with this {HEADER} "
                                          "and body created, as it is now: nothing was created."),
                            "links": created_links},
                    **_create_errors(names)}},
            "get": {
                "operationId": "listTasks", "summary": "List your tasks, newest first",
                "parameters": [
                    {"name": "page_size", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": page_size_max,
                                "default": 20}},
                    {"name": "page_token", "in": "query", "schema": {"type": "string"},
                     "description": "`next_page_token` of the previous page; empty or absent "
                                    "for the first. A token this list did not issue is a 400."}],
                "responses": {
                    "200": {**_json(ref(names[TaskPage]), "A page."), "links": {
                        "listTasks": {"operationId": "listTasks", "parameters": {
                            "page_token": "$response.body#/next_page_token"}}}},
                    **_errors(names, 400, 401)}}},
        f"{API_PREFIX}/tasks/{{task_id}}/": {"get": {
            "operationId": "getTask", "summary": "Poll a task",
            "description": "Send the last `ETag` as `If-None-Match` and a task that has not "
                           "changed answers 304 with no body: polling transfers nothing "
                           "until something happens.",
            "parameters": [*task_id, IF_NONE_MATCH],
            "responses": {"200": {**_json(task, "The task."), "headers": _REVALIDATION_HEADERS,
                                  "links": {**_task_links("cancelTask", "downloadTaskResult"),
                                            "revalidateTask": _revalidate_link()}},
                          "304": {"description": "Not modified: the task is as the ETag in "
                                                 "If-None-Match says. No body.",
                                  "headers": _REVALIDATION_HEADERS},
                          **_errors(names, 401, 404)}}},
        f"{API_PREFIX}/tasks/{{task_id}}/cancel/": {"post": {
            "operationId": "cancelTask", "summary": "Cancel a task", "parameters": task_id,
            "responses": {"200": {**_json(task, "Canceled."), "links": _task_links("getTask")},
                          **_errors(names, 401, 404, 409)}}},
        f"{API_PREFIX}/tasks/{{task_id}}/resume/": {"post": {
            "operationId": "resumeTask", "summary": "Resume a FAILED task at its failed stage",
            "description": "Finished stages keep their results and are not run again, and an "
                           "attempt still alive under its lease keeps its stage; a task that is "
                           "not FAILED is a 409. A task that waited on an upload checks it "
                           "again: still missing, the task waits (PENDING); invalid, a 422 with "
                           "that input's error, which becomes the task's.",
            "parameters": task_id,
            "responses": {"200": {**_json(task, "Running again (or waiting on its input)."),
                                  "links": _task_links("getTask", "cancelTask")},
                          **_errors(names, 401, 404, 409, 422, 503, why={
                              422: f"An input the task waited on is invalid (code "
                                   f"{PayloadInvalid.code}); `details` names it."})}}},
        f"{API_PREFIX}/files/tasks/{{task_id}}/download/": {"get": {
            "operationId": "downloadTaskResult", "summary": "Download a task's main artifact",
            "parameters": task_id,
            "responses": {"302": _redirect("To the task's main artifact."),
                          **_errors(names, 401, 404, 409, 425)}}},
        f"{API_PREFIX}/assets/": {"get": {
            "operationId": "listAssets", "summary": "List your assets' story indexes",
            "responses": {"200": _json(ref(names[AssetPage]), "Every asset with an index."),
                          **_errors(names, 401)}}},
        f"{API_PREFIX}/assets/{{asset_id}}/": {"delete": {
            "operationId": "deleteAsset", "summary": "Delete an asset's story index",
            "description": "Narrations created before keep reading the index they were "
                           "pinned to; later ones of the asset narrate without retrieval.",
            "parameters": asset_id,
            "responses": {"204": {"description": "Deleted."}, **_errors(names, 401, 404)}}},
        f"{API_PREFIX}/assets/{{asset_id}}/search/": {"get": {
            "operationId": "searchAsset", "summary": "Search an asset's story index",
            "description": "The scenes that best match `q` over the scenes' documents "
                           "(summary, lines, captions, highlights and the facts about their "
                           "characters), best first: by BM25, or for an index of the "
                           "embeddings kind by the cosine similarity of `q`'s embedding.",
            "parameters": [*asset_id,
                           {"name": "q", "in": "query", "required": True,
                            "schema": {"type": "string", "minLength": 1,
                                       "maxLength": MAX_QUERY_CHARS,
                                       "pattern": QUERY_PATTERN}},
                           {"name": "k", "in": "query",
                            "schema": {"type": "integer", "minimum": 1,
                                       "maximum": MAX_RAG_TOP_K, "default": DEFAULT_K}}],
            "responses": {"200": _json(ref(names[SearchResults]), "The best scenes."),
                          **_errors(names, 400, 401, 404)}}},
        f"{API_PREFIX}/files/download/": {"get": {
            "operationId": "downloadFile",
            "summary": "Download one of your files by relative path",
            "parameters": [{"name": "path", "in": "query", "required": True,
                            "schema": RELATIVE_PATH}],
            "responses": {"302": _redirect("To the file."), **_errors(names, 400, 401, 404)}}},
    }


@cache
def _document(page_size_max: int, max_upload_bytes: int, priced_models: tuple[str, ...]
              ) -> dict[str, Any]:
    schemas, names = component_schemas(max_upload_bytes, priced_models)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Visify Story Studio Cloud API", "version": VERSION},
        "paths": _paths(names, page_size_max),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "instanceId": {"type": "apiKey", "in": "header", "name": "X-Instance-ID",
                               "description": "The edge instance's id (sent with X-Api-Key)."},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                           "description": "The instance's API key."},
            },
        },
        "security": _AUTH,
    }


def openapi_document(server_url: str, settings: Settings) -> dict[str, Any]:
    doc = _document(settings.page_size_max, settings.max_upload_bytes,
                    tuple(sorted(settings.gemini_prices)))
    return {**doc, "servers": [{"url": server_url}]}
