"""The API's routes and error mapping with fake ports (the emulator-backed run is in e2e)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from tests.support.fakes import fake_api_deps
from vss.api.app import create_app
from vss.deps import Deps
from vss.service import auth


@pytest.fixture
def deps() -> Deps:
    return fake_api_deps(max_upload_bytes=4096)


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


def test_apps_built_from_the_same_blueprints_each_answer_from_their_own_deps(deps, headers):
    """The routes are module-level blueprints: a second app must not see the first's ports."""
    other = fake_api_deps(max_upload_bytes=4096)
    ours, theirs = create_app(deps).test_client(), create_app(other).test_client()
    assert ours.get("/api/v1/tasks/", headers=headers).status_code == 200
    assert theirs.get("/api/v1/tasks/", headers=headers).status_code == 401
    assert ours.get("/api/v1/tasks/", headers=headers).status_code == 200


def test_openapi_document_lists_every_route(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/files/download/" in doc["paths"]
    assert "GenerateNarrationPayload" in doc["components"]["schemas"]
    refs = {p for p in str(doc["paths"]).split("'") if p.startswith("#/components/schemas/")}
    assert refs and all(r.rsplit("/", 1)[1] in doc["components"]["schemas"] for r in refs)
    validate(doc)  # a valid OpenAPI 3.1 document, $refs resolved


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


def _routes() -> list[tuple[str, str]]:
    app = create_app(fake_api_deps())
    return sorted((rule.rule, method) for rule in app.url_map.iter_rules()
                  if rule.endpoint != "static"
                  for method in (rule.methods or set()) - {"HEAD", "OPTIONS"})


def _completed_task(deps: Deps, headers: dict[str, str], client: FlaskClient) -> tuple[str, str]:
    """(id, result path) of a COMPLETED task of the caller whose result is a stored file."""
    import io

    from vss.domain.results import DubbingResult
    from vss.domain.tasks import Stage, TaskStatus

    uploaded = client.post("/api/v1/files/upload/", headers=headers, data={
        "file": (io.BytesIO(b'{"narration_script": []}'), "n.json")}).get_json()
    created = client.post("/api/v1/tasks/", headers=headers, json={
        "task_type": "GENERATE_DUBBING",
        "payload": {"input_narration_path": uploaded["relative_path"]}}).get_json()
    task = deps.tasks.get(created["id"])
    assert task is not None
    deps.tasks.docs[task.id] = task.model_copy(update={  # type: ignore[attr-defined]
        "status": TaskStatus.COMPLETED,
        "results": {Stage.DUBBING: DubbingResult(
            output_file_path=uploaded["relative_path"], segments=0, total_duration=0,
            engine="test")}})
    return task.id, uploaded["relative_path"]


@pytest.mark.parametrize(("rule", "method"), _routes())
@pytest.mark.parametrize("slash", [True, False])
def test_every_route_answers_with_and_without_trailing_slash(client, deps, headers, rule,
                                                             method, slash):
    import io

    task_id, file_path = _completed_task(deps, headers, client)
    create = {"task_type": "GENERATE_DUBBING", "payload": {"input_narration_path": file_path}}
    pending = client.post("/api/v1/tasks/", headers=headers, json=create).get_json()["id"]
    failed = client.post("/api/v1/tasks/", headers=headers, json=create).get_json()["id"]
    deps.tasks.docs[failed] = deps.tasks.docs[failed].model_copy(update={"status": "FAILED"})
    calls = {  # (rule, method) → (path parameters, request arguments, expected status)
        ("/api/v1/health/", "GET"): ({}, {}, 200),
        ("/api/v1/openapi.json", "GET"): ({}, {}, 200),
        ("/api/v1/tasks/", "GET"): ({}, {"query_string": {"page_size": 5}}, 200),
        ("/api/v1/tasks/", "POST"): ({}, {"json": create}, 202),
        ("/api/v1/tasks/<task_id>/", "GET"): ({"task_id": task_id}, {}, 200),
        ("/api/v1/tasks/<task_id>/cancel/", "POST"): ({"task_id": pending}, {}, 200),
        ("/api/v1/tasks/<task_id>/resume/", "POST"): ({"task_id": failed}, {}, 200),
        ("/api/v1/files/tasks/<task_id>/download/", "GET"): ({"task_id": task_id}, {}, 302),
        ("/api/v1/files/download/", "GET"): ({}, {"query_string": {"path": file_path}}, 302),
        ("/api/v1/files/upload/", "POST"): (
            {}, {"data": {"file": (io.BytesIO(b'{"a": 1}'), "a.json")}}, 201),
        ("/api/v1/assets/", "GET"): ({}, {}, 200),
        # No index deployed for this asset: the routes answer as for any missing resource.
        ("/api/v1/assets/<asset_id>/search/", "GET"): (
            {"asset_id": "a1"}, {"query_string": {"q": "x"}}, 404),
        ("/api/v1/assets/<asset_id>/", "DELETE"): ({"asset_id": "a1"}, {}, 404),
    }
    assert (rule, method) in calls, f"add {method} {rule} to this test"
    params, kwargs, status = calls[(rule, method)]
    path = rule
    for name, value in params.items():
        path = path.replace(f"<{name}>", value)
    path = path if path.endswith("/") == slash else (path + "/" if slash else path[:-1])
    response = client.open(path, method=method, headers=headers, **kwargs)
    assert response.status_code == status, (path, response.get_json())


def test_openapi_paths_are_exactly_the_flask_routes(client):
    import re

    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), method) for rule, method in _routes()}
    assert documented == served


MALFORMED_IDS = ["a/b", "__x__", "..", ".", "a b", "x" * 129, "é"]


@pytest.mark.parametrize("instance_id", MALFORMED_IDS)
def test_a_malformed_instance_id_is_401_like_any_bad_credential(client, headers, instance_id):
    response = client.get("/api/v1/tasks/", headers={**headers, "X-Instance-ID": instance_id})
    unknown = client.get("/api/v1/tasks/", headers={**headers, "X-Instance-ID": "i_unknown"})
    assert response.status_code == 401
    assert response.get_json() == unknown.get_json()


@pytest.mark.parametrize("task_id", ["__x__", "..", ".", "x" * 129, "a%2Fb"])
@pytest.mark.parametrize(("method", "template"), [
    ("GET", "/api/v1/tasks/{}/"), ("POST", "/api/v1/tasks/{}/cancel/"),
    ("GET", "/api/v1/files/tasks/{}/download/")])
def test_a_malformed_task_id_is_404(client, headers, task_id, method, template):
    response = client.open(template.format(task_id), method=method, headers=headers)
    assert response.status_code == 404 and response.get_json()["code"] == 1004


@pytest.mark.parametrize("token", ["__x__", "../../x", "a/b", "zzzz", "x" * 200])
def test_an_unknown_or_malformed_page_token_is_400_pointing_at_it(client, headers, token):
    response = client.get("/api/v1/tasks/", headers=headers, query_string={"page_token": token})
    body = response.get_json()
    assert response.status_code == 400 and body["code"] == 1001
    assert [e["pointer"] for e in body["details"]["errors"]] == ["/query/page_token"]


def test_another_tenants_task_id_is_not_a_page_token(client, deps, headers):
    other = auth.create_tenant(deps, "other")
    theirs = {"X-Instance-ID": other.instance_id, "X-Api-Key": other.api_key}
    task_id, _ = _completed_task(deps, theirs, client)
    response = client.get("/api/v1/tasks/", headers=headers,
                          query_string={"page_token": task_id})
    assert response.status_code == 400
    assert client.get("/api/v1/tasks/", headers=theirs,
                      query_string={"page_token": task_id}).status_code == 200


@pytest.mark.parametrize("path", ["uploads/__x__/x.json", "uploads/../x/y.json",
                                  "uploads/a b/x.json", "uploads/" + "f" * 129 + "/x.json"])
def test_a_payload_path_with_a_malformed_file_id_is_4xx(client, deps, headers, path):
    response = client.post("/api/v1/tasks/", headers=headers, json={
        "task_type": "GENERATE_NARRATION", "payload": {"blueprint_path": path}})
    assert response.status_code in (400, 404), response.get_json()
    assert response.get_json()["code"] in (1004, 1007)
    assert deps.tasks.docs == {}  # type: ignore[attr-defined]


def test_a_signed_upload_admits_exactly_the_declared_size(client, headers):
    response = client.post("/api/v1/files/upload/", headers=headers,
                           json={"filename": "s.json", "size": 10})
    assert response.status_code == 201
    assert response.get_json()["headers"]["x-goog-content-length-range"] == "10,10"


def test_when_the_deadline_cannot_be_scheduled_no_task_is_left_and_the_answer_is_503(
    client, deps, headers
):
    import io

    from tests.support.fakes import FakeScheduler
    from vss.errors import RetryableError

    uploaded = client.post("/api/v1/files/upload/", headers=headers, data={
        "file": (io.BytesIO(b'{"narration_script": []}'), "n.json")}).get_json()
    assert isinstance(deps.deadlines, FakeScheduler)
    deps.deadlines.fail_with = RetryableError("The task's deadline could not be scheduled.")
    response = client.post("/api/v1/tasks/", headers=headers, json={
        "task_type": "GENERATE_DUBBING",
        "payload": {"input_narration_path": uploaded["relative_path"]}})
    body = response.get_json()
    assert response.status_code == 503 and body["code"] == RetryableError.code
    assert set(body) == {"code", "message", "details"}
    assert deps.tasks.docs == {}  # type: ignore[attr-defined]
    assert deps.publisher.published == []  # type: ignore[attr-defined]


def test_a_405_is_json_and_names_the_allowed_methods(client, headers):
    response = client.open("/api/v1/tasks/", method="TRACE", headers=headers)
    assert response.status_code == 405 and response.get_json()["code"] == 1008
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.parametrize(("path", "kwargs", "status"), [
    ("/api/v1/tasks/", {"data": "task_type=GENERATE_DUBBING", "content_type": "text/plain"}, 415),
    ("/api/v1/tasks/", {"data": "{not json", "content_type": "application/json"}, 400),
    ("/api/v1/tasks/", {"json": ["a list"]}, 400),
    ("/api/v1/files/upload/", {"data": b"{}", "content_type": "text/plain"}, 415),
    ("/api/v1/files/upload/", {}, 415),
])
def test_a_body_of_the_wrong_media_type_is_415_and_a_malformed_one_400(client, headers, path,
                                                                       kwargs, status):
    response = client.post(path, headers=headers, **kwargs)
    assert response.status_code == status, response.get_json()
    assert set(response.get_json()) == {"code", "message", "details"}


@pytest.mark.parametrize("size", [" 5", "+5", "5.0", "٥", "five"])
def test_page_size_is_plain_digits(client, headers, size):
    response = client.get("/api/v1/tasks/", headers=headers, query_string={"page_size": size})
    assert response.status_code == 400
    assert response.get_json()["details"]["errors"][0]["pointer"] == "/query/page_size"


def test_a_download_redirect_has_no_page_only_the_location(client, deps, headers):
    task_id, _ = _completed_task(deps, headers, client)
    response = client.get(f"/api/v1/files/tasks/{task_id}/download/", headers=headers)
    assert response.status_code == 302 and response.data == b""
    assert "Content-Type" not in response.headers
    assert response.headers["Location"].startswith("http")
    assert response.headers["Cache-Control"] == "no-store"


def test_the_document_has_one_create_branch_per_task_type_and_no_other(client):
    from vss.domain.payloads import PAYLOADS
    from vss.domain.tasks import TaskType

    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    branches = [schemas[r["$ref"].rsplit("/", 1)[1]] for r in schemas["CreateTask"]["oneOf"]]
    assert [b["properties"]["task_type"]["const"] for b in branches] == [t.value for t in TaskType]
    assert [b["properties"]["payload"]["$ref"].rsplit("/", 1)[1] for b in branches] == [
        PAYLOADS[t].__name__ for t in TaskType]


def test_the_document_reads_its_limits_from_the_settings():
    deps = fake_api_deps(max_upload_bytes=1234, page_size_max=7)
    doc = create_app(deps).test_client().get("/api/v1/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert schemas["SignedUploadRequest"]["properties"]["size"]["maximum"] == 1234
    page_size = doc["paths"]["/api/v1/tasks/"]["get"]["parameters"][0]["schema"]
    assert page_size["maximum"] == 7
    models = schemas["NarrationServiceParams"]["properties"]["model"]["anyOf"][0]["enum"]
    assert models == sorted(deps.settings.gemini_prices)


@pytest.mark.parametrize(("payload", "field"), [
    ({"dataset_path": "uploads/f/x.json"}, "dataset_path"),
    ({"blueprint_path": "uploads/f/x.json", "dataset_path": "uploads/f/y.json"}, None),
])
def test_the_document_knows_both_spellings_of_a_payload_field(client, payload, field):
    from vss.domain.payloads import GenerateNarrationPayload

    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"][
        "GenerateNarrationPayload"]
    assert "dataset_path" in schema["properties"]
    both = {"not": {"required": ["blueprint_path", "dataset_path"]}}
    assert both in schema["allOf"]
    try:  # the model agrees: one spelling is enough, both at once is refused
        GenerateNarrationPayload.model_validate(payload)
        accepted = True
    except ValueError:
        accepted = False
    assert accepted == (field is not None)


def test_the_document_describes_the_idempotency_key_and_its_answers(client):
    import re

    from vss.domain.idempotency import MAX_KEY_LENGTH

    create = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/tasks/"]["post"]
    (header,) = create["parameters"]
    assert (header["name"], header["in"], header["required"]) == ("Idempotency-Key", "header",
                                                                  False)
    assert header["schema"]["maxLength"] == MAX_KEY_LENGTH
    pattern = re.compile(header["schema"]["pattern"])
    for raw in ("a", "x" * 255, "order 42", "", " a", "a ", "x" * 256, "é", "\x7f"):
        assert bool(pattern.search(raw)) == (raw.strip() == raw and raw != ""
                                             and len(raw) <= 255 and raw.isascii()
                                             and raw.isprintable()), raw
    assert {"200", "202", "422"} <= set(create["responses"])
    assert create["responses"]["200"]["links"] == create["responses"]["202"]["links"]
