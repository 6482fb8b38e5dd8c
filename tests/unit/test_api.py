"""The API's routes and error mapping with fake ports (the emulator-backed run is in e2e)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.fakes import fake_deps
from vss.api.app import create_app
from vss.bootstrap import Deps
from vss.service import auth


@pytest.fixture
def deps() -> Deps:
    return fake_deps(max_upload_bytes=4096)


@pytest.fixture
def client(deps: Deps) -> FlaskClient:
    return create_app(deps).test_client()


@pytest.fixture
def headers(deps: Deps) -> dict[str, str]:
    creds = auth.create_tenant(deps, "acme")
    return {"X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key}


def test_paths_answer_with_and_without_trailing_slash(client, headers):
    for path in ("/api/v1/tasks/", "/api/v1/tasks", "/api/v1/health", "/api/v1/health/"):
        assert client.get(path, headers=headers).status_code == 200


def test_key_is_stored_only_as_a_hash(deps, headers):
    instance = deps.tenants.get_instance(headers["X-Instance-ID"])
    assert instance is not None and headers["X-Api-Key"] not in instance.model_dump_json()
    assert instance.key_hash == auth.hash_key(headers["X-Api-Key"])


def test_revoked_and_rotated_keys_stop_working(client, deps, headers):
    rotated = auth.rotate_key(deps, headers["X-Instance-ID"])
    assert client.get("/api/v1/tasks/", headers=headers).status_code == 401
    fresh = {"X-Instance-ID": rotated.instance_id, "X-Api-Key": rotated.api_key}
    assert client.get("/api/v1/tasks/", headers=fresh).status_code == 200
    auth.revoke_key(deps, rotated.instance_id)
    body = client.get("/api/v1/tasks/", headers=fresh).get_json()
    assert body["code"] == 1002


def test_multipart_upload_records_size_and_sha256(client, headers, deps):
    import hashlib
    import io

    data = b'{"narration_script": [{"narration": "hi", "source_scene_ids": [1]}]}'
    response = client.post("/api/v1/files/upload/", headers=headers,
                           data={"file": (io.BytesIO(data), "n.json")})
    assert response.status_code == 201
    body = response.get_json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size"] == len(data)
    assert body["content_type"] == "application/json"


def test_upload_over_the_cap_is_413_json(client, headers):
    import io

    response = client.post("/api/v1/files/upload/", headers=headers,
                           data={"file": (io.BytesIO(b"{" + b" " * 80_000 + b"}"), "x.json")})
    assert response.status_code == 413 and response.get_json()["code"] == 1005


def test_signed_upload_request_is_validated(client, headers):
    bad = client.post("/api/v1/files/upload/", headers=headers, json={"filename": "x.json"})
    assert bad.status_code == 400
    assert bad.get_json()["details"]["errors"][0]["pointer"] == "/size"
    exe = client.post("/api/v1/files/upload/", headers=headers, json={
        "filename": "x.exe", "size": 10, "content_type": "application/x-msdownload"})
    assert exe.status_code == 415


def test_unknown_route_and_method_are_json(client, headers):
    missing = client.get("/api/v1/nope", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["code"] == 1004
    wrong = client.delete("/api/v1/tasks/", headers=headers)
    assert wrong.status_code == 405 and wrong.get_json()["code"] == 1008


def test_openapi_document_lists_every_route(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/files/download/" in doc["paths"]
    assert "GenerateNarrationPayload" in doc["components"]["schemas"]
    refs = {p for p in str(doc["paths"]).split("'") if p.startswith("#/components/schemas/")}
    assert refs and all(r.rsplit("/", 1)[1] in doc["components"]["schemas"] for r in refs)


def test_a_model_without_a_known_price_is_refused_before_any_work(client, headers, deps):
    response = client.post("/api/v1/tasks/", headers=headers, json={
        "task_type": "GENERATE_NARRATION",
        "payload": {"blueprint_path": "uploads/f/x.json",
                    "service_params": {"model": "gemini-9-ultra"}}})
    body = response.get_json()
    assert response.status_code == 400 and body["code"] == 1001
    assert body["details"]["errors"][0]["pointer"] == "/payload/service_params/model"
    assert "gemini-2.5-pro" in body["details"]["errors"][0]["reason"]
    tenant = auth.authenticate(deps, headers["X-Instance-ID"], headers["X-Api-Key"]).tenant_id
    assert deps.tasks.list_for_tenant(tenant, limit=5, after=None)[0] == []
