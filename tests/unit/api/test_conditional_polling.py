"""Conditional polling of `GET /api/v1/tasks/<id>/`: a strong ETag over the exact body, 304
without a body while `If-None-Match` names it, and nothing of it before the caller and the task
are known to go together."""

from __future__ import annotations

import hashlib

import pytest
from flask.testing import FlaskClient

from tests.support.fakes import fake_api_deps
from vss.api.app import create_app
from vss.api.conditional import CACHE_CONTROL
from vss.deps import Deps
from vss.service import auth, tasks, uploads


@pytest.fixture
def deps() -> Deps:
    return fake_api_deps(max_upload_bytes=4096)


@pytest.fixture
def client(deps: Deps) -> FlaskClient:
    return create_app(deps).test_client()


def _headers(deps: Deps, name: str) -> dict[str, str]:
    creds = auth.create_tenant(deps, name)
    return {"X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key}


@pytest.fixture
def headers(deps: Deps) -> dict[str, str]:
    return _headers(deps, "acme")


def _tenant(deps: Deps, headers: dict[str, str]) -> str:
    return auth.authenticate(deps, headers["X-Instance-ID"], headers["X-Api-Key"]).tenant_id


@pytest.fixture
def task_id(deps: Deps, headers: dict[str, str]) -> str:
    """A PENDING dubbing task of the caller (its narration upload is still being checked)."""
    tenant = _tenant(deps, headers)
    upload = uploads.store_upload(deps, tenant, "n.json", b'{"narration_script": []}')
    return tasks.create_task(deps, tenant, tasks.CreateTask(
        task_type="GENERATE_DUBBING",
        payload={"input_narration_path": upload.relative_path})).id


def _url(task_id: str) -> str:
    return f"/api/v1/tasks/{task_id}/"


def test_a_poll_answers_with_a_strong_etag_of_its_exact_body(client, headers, task_id):
    response = client.get(_url(task_id), headers=headers)
    assert response.status_code == 200
    digest = hashlib.sha256(response.get_data()).hexdigest()
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert digest.startswith(etag.strip('"'))
    assert response.headers["Cache-Control"] == CACHE_CONTROL == "private, no-cache"
    # The same task read again is the same body, so the same tag.
    assert client.get(_url(task_id), headers=headers).headers["ETag"] == etag


def test_if_none_match_with_the_current_etag_is_a_304_without_a_body(client, headers, task_id):
    etag = client.get(_url(task_id), headers=headers).headers["ETag"]
    response = client.get(_url(task_id), headers={**headers, "If-None-Match": etag})
    assert response.status_code == 304
    assert response.get_data() == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == CACHE_CONTROL
    assert "Content-Type" not in response.headers


@pytest.mark.parametrize("form", [
    "{etag}", "W/{etag}", '"0123", {etag}', '{etag},"x"', "W/\"a\" ,  W/{etag}", "*"])
def test_lists_star_and_weak_tags_match_by_weak_comparison(client, headers, task_id, form):
    etag = client.get(_url(task_id), headers=headers).headers["ETag"]
    response = client.get(_url(task_id), headers={**headers,
                                                  "If-None-Match": form.format(etag=etag)})
    assert response.status_code == 304, form


def test_after_the_task_changes_the_old_etag_gets_the_new_body_and_tag(
    client, deps, headers, task_id
):
    first = client.get(_url(task_id), headers=headers)
    tasks.cancel_task(deps, _tenant(deps, headers), task_id)
    response = client.get(_url(task_id), headers={**headers,
                                                  "If-None-Match": first.headers["ETag"]})
    assert response.status_code == 200
    assert response.get_json()["status"] == "CANCELED"
    assert response.headers["ETag"] not in (None, first.headers["ETag"])
    again = client.get(_url(task_id), headers={**headers,
                                               "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("value", [
    "", "garbage", '"unterminated', "W/", ",,,", '"0000000000000000"', "W/ \"x\"",
    "{etag}extra", "W/{etag}/"])
def test_a_malformed_or_other_if_none_match_is_no_match(client, headers, task_id, value):
    etag = client.get(_url(task_id), headers=headers).headers["ETag"]
    value = value.format(etag=etag)
    response = client.get(_url(task_id), headers={**headers, "If-None-Match": value})
    assert response.status_code == 200, value
    assert response.get_json()["id"] == task_id
    assert response.headers["ETag"] == etag


def test_another_tenants_task_is_404_whatever_if_none_match_says(client, deps, headers, task_id):
    etag = client.get(_url(task_id), headers=headers).headers["ETag"]
    theirs = _headers(deps, "other")
    for value in (etag, "*"):
        response = client.get(_url(task_id), headers={**theirs, "If-None-Match": value})
        assert response.status_code == 404 and response.get_json()["code"] == 1004
        assert "ETag" not in response.headers
    # Unknown ids and missing credentials answer as they always do.
    unknown = client.get(_url("f" * 32), headers={**headers, "If-None-Match": "*"})
    assert unknown.status_code == 404 and "ETag" not in unknown.headers
    anonymous = client.get(_url(task_id), headers={"If-None-Match": etag})
    assert anonymous.status_code == 401 and "ETag" not in anonymous.headers


def test_the_document_declares_the_header_the_tag_and_the_304(client):
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][
        "/api/v1/tasks/{task_id}/"]["get"]
    assert {"name": "If-None-Match", "in": "header"}.items() <= next(
        p for p in operation["parameters"] if p["name"] == "If-None-Match").items()
    for status in ("200", "304"):
        assert {"ETag", "Cache-Control"} <= set(operation["responses"][status]["headers"])
    assert "content" not in operation["responses"]["304"]
