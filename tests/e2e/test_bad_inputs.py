"""Bad input over HTTP: each answered with its documented error, never a 5xx, nothing lost."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.paths import BLUEPRINT
from tests.support.stack import new_tenant, stack_env
from vss.edge.client import EdgeClient

pytestmark = pytest.mark.integration




def _error(response: requests.Response, status: int, code: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    return body


def test_missing_or_wrong_credentials_get_401():
    base = stack_env()["VSS_API_URL"] + "/api/v1"
    _error(requests.get(f"{base}/tasks/", timeout=10), 401, 1002)
    _error(requests.get(f"{base}/tasks/", headers={"X-Instance-ID": "i_x", "X-Api-Key": "nope"},
                        timeout=10), 401, 1002)
    assert requests.get(f"{base}/health", timeout=10).status_code == 200


def test_malformed_json_body(edge: EdgeClient):
    response = edge.session.post(f"{edge.base}/tasks/", data="{not json",
                                 headers={"Content-Type": "application/json"})
    _error(response, 400, 1001)


def test_schema_violation_points_at_the_field(edge: EdgeClient, dataset_path: str):
    response = edge.session.post(f"{edge.base}/tasks/", json={
        "task_type": "GENERATE_NARRATION",
        "payload": {"blueprint_path": dataset_path,
                    "service_params": {"control_params": {"target_duration_minutes": -1}}}})
    body = _error(response, 400, 1001)
    pointers = [e["pointer"] for e in body["details"]["errors"]]
    assert "/payload/service_params/control_params/target_duration_minutes" in pointers


@pytest.mark.parametrize("task_id", ["%0A", "%0D%0A", "%00", "a%09b"])
def test_an_id_with_a_control_character_is_a_json_404(edge: EdgeClient, task_id: str):
    # The functions framework's own router refuses these paths before the app sees them.
    _error(edge.session.get(f"{edge.base}/tasks/{task_id}/"), 404, 1004)


def test_a_payload_firestore_cannot_store_is_a_400(edge: EdgeClient, dataset_path: str):
    body = _error(edge.session.post(f"{edge.base}/tasks/", json={
        "task_type": "GENERATE_NARRATION",
        "payload": {"blueprint_path": dataset_path, "service_params": {"": 1}}}), 400, 1001)
    assert body["details"]["errors"][0]["pointer"] == "/payload/service_params/"


def test_unknown_task_type(edge: EdgeClient):
    body = _error(edge.session.post(f"{edge.base}/tasks/", json={
        "task_type": "MAKE_COFFEE", "payload": {}}), 400, 2001)
    assert "GENERATE_NARRATION" in body["details"]["supported"]


def test_oversized_upload_is_413():
    env = stack_env()
    edge, _ = new_tenant()
    limit = int(env.get("VSS_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
    big = b"{" + b" " * (limit + 1) + b"}"
    response = edge.session.post(f"{edge.base}/files/upload/",
                                 files={"file": ("big.json", big)})
    _error(response, 413, 1005)
    signed = edge.session.post(f"{edge.base}/files/upload/", json={
        "filename": "big.json", "size": limit + 1})
    _error(signed, 413, 1005)


def test_binary_upload_is_415(edge: EdgeClient):
    response = edge.session.post(f"{edge.base}/files/upload/",
                                 files={"file": ("movie.json", b"\x00\x01\x02ELF" * 50)})
    _error(response, 415, 1006)


def test_another_tenants_files_and_tasks_are_404(edge: EdgeClient, dataset_path: str):
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset_path})
    other, _ = new_tenant()
    _error(other.session.get(f"{other.base}/tasks/{task['id']}/"), 404, 1004)
    _error(other.session.get(f"{other.base}/files/download/", params={"path": dataset_path},
                             allow_redirects=False), 404, 1004)
    _error(other.session.post(f"{other.base}/tasks/", json={
        "task_type": "GENERATE_NARRATION", "payload": {"blueprint_path": dataset_path}}),
        404, 1004)
    assert edge.session.get(f"{edge.base}/files/download/", params={"path": dataset_path},
                            allow_redirects=False).status_code == 302


@pytest.mark.parametrize("path", [
    "../etc/passwd", "uploads/../../x.json", "/etc/passwd", "uploads/%2e%2e/%2e%2e/x",
    "uploads%2f..%2f..%2fx", "uploads/%252e%252e/x", "uploads\\..\\x", "C:/x/y.json",
])
def test_traversal_is_400(edge: EdgeClient, path: str):
    response = edge.session.get(f"{edge.base}/files/download/", params={"path": path},
                                allow_redirects=False)
    _error(response, 400, 1007)


def test_result_before_completion_is_425(edge: EdgeClient):
    data = BLUEPRINT.read_bytes()
    signed = edge.session.post(f"{edge.base}/files/upload/", json={
        "filename": "later.json", "size": len(data)}).json()
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": signed["relative_path"]})
    _error(edge.session.get(f"{edge.base}/files/tasks/{task['id']}/download/",
                            allow_redirects=False), 425, 2003)
    canceled = edge.session.post(f"{edge.base}/tasks/{task['id']}/cancel/")
    assert canceled.status_code == 200 and canceled.json()["status"] == "CANCELED"
    _error(edge.session.post(f"{edge.base}/tasks/{task['id']}/cancel/"), 409, 2005)


def test_invalid_dataset_fails_the_task_with_3004(edge: EdgeClient):
    document = json.loads(BLUEPRINT.read_text())
    document["scenes"]["3"]["end_time"] = "00:00:00.001"  # before its start
    response = edge.session.post(f"{edge.base}/files/upload/", files={
        "file": ("broken.json", json.dumps(document, ensure_ascii=False).encode())})
    assert response.status_code == 201
    task = edge.create_task("GENERATE_NARRATION",
                            {"blueprint_path": response.json()["relative_path"]})
    done = edge.wait(task["id"], timeout=60)
    assert done["status"] == "FAILED" and done["error"]["code"] == 3004
    pointers = [e["pointer"] for e in done["error"]["details"]["errors"]]
    assert any(p.startswith("/scenes/3") for p in pointers)


def test_wrong_file_kind_fails_with_3004(edge: EdgeClient, dataset_path: str):
    task = edge.create_task("GENERATE_DUBBING", {"input_narration_path": dataset_path})
    done = edge.wait(task["id"], timeout=60)
    assert done["status"] == "FAILED" and done["error"]["code"] == 3004
    assert "narration_script" in done["error"]["message"]


def _raw(edge: EdgeClient, method: str, path: str,
         headers: dict[str, str] | None = None) -> requests.Response:
    """Send `path` byte for byte: requests/urllib3 would resolve `..` and `.` segments first."""
    base = urlsplit(edge.base)
    connection = http.client.HTTPConnection(base.netloc, timeout=10)
    sent = {k: str(v) for k, v in edge.session.headers.items()
            if k in ("X-Instance-ID", "X-Api-Key")}
    connection.request(method, base.path + path, headers={**sent, **(headers or {})})
    answer = connection.getresponse()
    response = requests.Response()
    response.status_code, response._content = answer.status, answer.read()
    connection.close()
    return response


@pytest.mark.parametrize("instance_id", ["a/b", "__x__", "..", "."])
def test_a_malformed_instance_id_is_401_like_any_bad_credential(edge: EdgeClient,
                                                                instance_id: str):
    unknown = _error(_raw(edge, "GET", "/tasks/", {"X-Instance-ID": "i_unknown"}), 401, 1002)
    body = _error(_raw(edge, "GET", "/tasks/", {"X-Instance-ID": instance_id}), 401, 1002)
    assert body == unknown


@pytest.mark.parametrize("task_id", ["__x__", "..", "."])
@pytest.mark.parametrize(("method", "template"), [
    ("GET", "/tasks/{}/"), ("GET", "/tasks/{}"), ("POST", "/tasks/{}/cancel/"),
    ("GET", "/files/tasks/{}/download/")])
def test_a_malformed_task_id_is_404(edge: EdgeClient, task_id: str, method: str, template: str):
    _error(_raw(edge, method, template.format(task_id)), 404, 1004)


@pytest.mark.parametrize("token", ["__x__", "../../x", "zzzz", "a" * 32])
def test_an_unknown_or_malformed_page_token_is_400(edge: EdgeClient, token: str):
    response = edge.session.get(f"{edge.base}/tasks/", params={"page_token": token})
    body = _error(response, 400, 1001)
    assert [e["pointer"] for e in body["details"]["errors"]] == ["/query/page_token"]


def test_another_tenants_task_is_no_page_token(edge: EdgeClient, dataset_path: str):
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset_path})
    other, _ = new_tenant()
    _error(other.session.get(f"{other.base}/tasks/", params={"page_token": task["id"]}),
           400, 1001)


@pytest.mark.parametrize("path", ["uploads/__x__/x.json", "uploads/a.b/x.json",
                                  "uploads/" + "f" * 200 + "/x.json"])
def test_a_payload_path_with_a_malformed_file_id_is_404(edge: EdgeClient, path: str):
    _error(edge.session.post(f"{edge.base}/tasks/", json={
        "task_type": "GENERATE_NARRATION", "payload": {"blueprint_path": path}}), 404, 1004)


def test_a_signed_upload_admits_exactly_the_declared_size(edge: EdgeClient):
    signed = edge.session.post(f"{edge.base}/files/upload/", json={
        "filename": "small.json", "size": 10})
    assert signed.status_code == 201, signed.text
    assert signed.json()["headers"]["x-goog-content-length-range"] == "10,10"
