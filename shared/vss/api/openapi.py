"""The OpenAPI 3.1 document, generated from the same pydantic models the routes use."""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from vss.api.views import API_PREFIX, ErrorBody, Health, TaskPage, TaskView, UploadedFile
from vss.domain.payloads import PAYLOADS
from vss.service.tasks import CreateTask
from vss.service.uploads import SignedUpload, SignedUploadRequest

_MODELS: list[type[BaseModel]] = [
    ErrorBody, Health, UploadedFile, SignedUploadRequest, SignedUpload, CreateTask, TaskView,
    TaskPage, *PAYLOADS.values(),
]
_AUTH: list[dict[str, list[str]]] = [{"instanceId": [], "apiKey": []}]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _json(ErrorBody, "Error `{code, message, details}`.") for s in statuses}


def _redirect(description: str) -> dict[str, Any]:
    return {"description": description, "headers": {"Location": {"schema": {"type": "string"}}}}


def _paths() -> dict[str, Any]:
    task_id = [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        f"{API_PREFIX}/health/": {"get": {"summary": "Liveness", "security": [],
                                          "responses": {"200": _json(Health, "Up.")}}},
        f"{API_PREFIX}/openapi.json": {"get": {
            "summary": "This OpenAPI 3.1 document", "security": [],
            "responses": {"200": {"description": "The document.", "content": {
                "application/json": {"schema": {"type": "object"}}}}}}},
        f"{API_PREFIX}/files/upload/": {"post": {
            "summary": "Upload a file (multipart field `file`), or request a signed PUT URL (JSON)",
            "requestBody": {"content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                                   "properties": {"file": {"type": "string",
                                                                           "format": "binary"}}}},
                "application/json": {"schema": _ref(SignedUploadRequest)}}},
            "responses": {"201": {"description": "Stored (multipart) or signed (JSON).",
                                  "content": {"application/json": {"schema": {"oneOf": [
                                      _ref(UploadedFile), _ref(SignedUpload)]}}}},
                          **_errors(400, 401, 413, 415)}}},
        f"{API_PREFIX}/tasks/": {
            "post": {"summary": "Create a task",
                     "requestBody": {"content": {"application/json": {"schema": _ref(CreateTask)}}},
                     "responses": {"202": _json(TaskView, "Accepted."),
                                   **_errors(400, 401, 404, 503)}},
            "get": {"summary": "List your tasks, newest first",
                    "parameters": [
                        {"name": "page_size", "in": "query", "schema": {"type": "integer"}},
                        {"name": "page_token", "in": "query", "schema": {"type": "string"}}],
                    "responses": {"200": _json(TaskPage, "A page."), **_errors(400, 401)}}},
        f"{API_PREFIX}/tasks/{{task_id}}/": {"get": {
            "summary": "Poll a task", "parameters": task_id,
            "responses": {"200": _json(TaskView, "The task."), **_errors(401, 404)}}},
        f"{API_PREFIX}/tasks/{{task_id}}/cancel/": {"post": {
            "summary": "Cancel a task", "parameters": task_id,
            "responses": {"200": _json(TaskView, "Canceled."), **_errors(401, 404, 409)}}},
        f"{API_PREFIX}/files/tasks/{{task_id}}/download/": {"get": {
            "summary": "Download a task's main artifact", "parameters": task_id,
            "responses": {"302": _redirect("Short-lived signed URL."),
                          **_errors(401, 404, 409, 425)}}},
        f"{API_PREFIX}/files/download/": {"get": {
            "summary": "Download one of your files by relative path",
            "parameters": [{"name": "path", "in": "query", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"302": _redirect("Short-lived signed URL."),
                          **_errors(400, 401, 404)}}},
    }


@cache
def _document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(m, "validation") for m in _MODELS], ref_template="#/components/schemas/{model}"
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Visify Story Studio Cloud API", "version": "0.1.0"},
        "paths": _paths(),
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {
                "instanceId": {"type": "apiKey", "in": "header", "name": "X-Instance-ID"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
        "security": _AUTH,
    }


def openapi_document(server_url: str) -> dict[str, Any]:
    return {**_document(), "servers": [{"url": server_url}]}
