"""Who may call what, built from the OpenAPI document the app serves: every operation × every
way a credential can be bad answers the document's 401 with a JSON error, a valid caller naming
another tenant's task, file or asset gets the 404 a missing one gets (and none of that tenant's
data), and an operation the document declares public (`security: []`) answers anyone.

Nothing here names a route: path and query parameters are filled by name, request bodies by
schema, so a new operation is covered as soon as it is documented, and one whose parameters or
body the builder cannot fill fails with its name until the builder learns them.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import astuple, dataclass, fields
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.edge_api import FakeEdge, edge_request
from tests.support.fakes import fake_deps
from vss.api.app import create_app
from vss.api.views import ErrorBody
from vss.deps import Deps
from vss.domain.paths import owner_id
from vss.errors import NotFound, Unauthenticated
from vss.service import auth

INSTANCE, KEY = "X-Instance-ID", "X-Api-Key"
UNAUTHENTICATED = str(Unauthenticated.http_status)  # what the document declares for a bad key
NOT_FOUND = str(NotFound.http_status)  # and for another tenant's resource
METHODS = ("get", "put", "post", "delete", "patch")
SEARCH_TERMS = "车小小 海晏集团"  # words of the owner's story index: the search would hit


def _served_document() -> dict[str, Any]:
    document: dict[str, Any] = create_app(fake_deps()).test_client().get(
        "/api/v1/openapi.json").get_json()
    return document


DOCUMENT = _served_document()


@dataclass(frozen=True)
class Operation:
    """One operation of the document, with one request body media type when it takes a body
    (each media type is a separate way in, so each is called)."""

    path: str
    method: str
    media_type: str | None

    @property
    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = DOCUMENT["paths"][self.path][self.method]
        return spec

    @property
    def name(self) -> str:
        operation_id: str = self.spec["operationId"]
        if self.media_type is None or len(self.spec["requestBody"]["content"]) == 1:
            return operation_id
        return f"{operation_id}({self.media_type.rsplit('/', 1)[1]})"

    @property
    def public(self) -> bool:
        """No credential required: the operation (or else the document) lists no security
        requirement, or an empty one among the alternatives."""
        security = self.spec.get("security", DOCUMENT.get("security", []))
        return security == [] or {} in security

    def success_statuses(self) -> set[int]:
        return {int(status) for status in self.spec["responses"] if status.startswith("2")}


def _operations() -> list[Operation]:
    return [Operation(path, method, media_type)
            for path, item in DOCUMENT["paths"].items()
            for method, spec in item.items() if method in METHODS
            for media_type in (list(spec["requestBody"]["content"])
                               if "requestBody" in spec else [None])]


OPERATIONS = _operations()


@dataclass(frozen=True)
class Resources:
    """What of one tenant an operation can name: a parameter named like a field is filled with
    the field's value."""

    task_id: str  # a completed task (its result is stored)
    path: str  # an upload's relative_path
    asset_id: str  # a deployed story index


# Parameters that name nothing of a tenant's, filled with a constant.
CONSTANT_PARAMETERS = {"q": SEARCH_TERMS}


def _json_bodies(resources: Resources) -> dict[str, dict[str, Any]]:
    """A minimal valid JSON request body per request schema, naming `resources`."""
    return {
        "CreateTask": edge_request("deploy_rag_corpus", blueprint_input_path=resources.path,
                                   facts_input_path=None, asset_id=resources.asset_id),
        "SignedUploadRequest": {"filename": "signed.json", "size": 10},
    }


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    query: dict[str, str]
    body: dict[str, Any]  # test client keyword arguments: json= or data=

    def send(self, client: FlaskClient, headers: dict[str, str]) -> TestResponse:
        return client.open(self.url, method=self.method, headers=headers,
                           query_string=self.query, **self.body)

    def text(self) -> str:
        """All the request carries besides its headers, to tell an echo from a leak."""
        return " ".join([self.url, *self.query.values(), json.dumps(
            self.body.get("json"), ensure_ascii=False)])


def build_request(operation: Operation, resources: Resources) -> Request:
    """The operation called with every required parameter and a valid body, naming
    `resources`; fails with the operation's name for anything it cannot fill."""
    url, query = operation.path, {}
    for parameter in operation.spec.get("parameters", []):
        name, where = parameter["name"], parameter["in"]
        if where != "path" and not parameter.get("required", False):
            continue
        value = _parameter_value(operation, name, where, resources)
        if where == "path":
            url = url.replace(f"{{{name}}}", value)
        elif where == "query":
            query[name] = value
        else:
            raise AssertionError(f"{operation.name}: cannot fill required {where} parameter "
                                 f"{name!r}; teach the authorization matrix")
    assert "{" not in url, f"{operation.name}: {url} has an undeclared path parameter"
    body = _body(operation, resources) if operation.media_type is not None else {}
    return Request(operation.method.upper(), url, query, body)


def _parameter_value(operation: Operation, name: str, where: str, resources: Resources) -> str:
    if name in {field.name for field in fields(Resources)}:
        value: str = getattr(resources, name)
        return value
    if name in CONSTANT_PARAMETERS:
        return CONSTANT_PARAMETERS[name]
    raise AssertionError(f"{operation.name}: cannot fill {where} parameter {name!r}; add it to "
                         "Resources or CONSTANT_PARAMETERS")


def _body(operation: Operation, resources: Resources) -> dict[str, Any]:
    media_type = operation.media_type
    schema = operation.spec["requestBody"]["content"][media_type]["schema"]
    if media_type == "application/json" and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        bodies = _json_bodies(resources)
        assert name in bodies, f"{operation.name}: no JSON body for schema {name}; add one"
        return {"json": bodies[name]}
    if media_type == "multipart/form-data":
        files = {name: (io.BytesIO(b'{"a": 1}'), f"{name}.json")
                 for name in schema.get("required", [])
                 if schema["properties"][name].get("format") == "binary"}
        assert set(files) == set(schema.get("required", [])), \
            f"{operation.name}: cannot fill every required multipart field of {schema}"
        return {"data": files}
    raise AssertionError(f"{operation.name}: cannot build a {media_type} body; teach the "
                         "authorization matrix")


@dataclass(frozen=True)
class Keys:
    """The owner's credentials in every state a key can be in, and another tenant's key."""

    instance_id: str
    api_key: str
    revoked: auth.Credentials
    rotated_out: auth.Credentials  # the key a rotation replaced
    strangers_key: str


def _headers(credentials: auth.Credentials) -> dict[str, str]:
    return {INSTANCE: credentials.instance_id, KEY: credentials.api_key}


# Each way a call can fail to authenticate as the owner, whose own resources it names: the
# credential is the only reason to refuse it.
BAD_CREDENTIALS: dict[str, Callable[[Keys], dict[str, str]]] = {
    "no_credentials": lambda keys: {},
    "no_key": lambda keys: {INSTANCE: keys.instance_id},
    # What a server hands over for a non-ASCII header (Latin-1): never a valid key.
    "non_ascii_key": lambda keys: {INSTANCE: keys.instance_id, KEY: keys.api_key + "é"},
    # A front end may refuse it first (header size limits); the app must not fail on it.
    "oversized_key": lambda keys: {INSTANCE: keys.instance_id, KEY: keys.api_key * 20_000},
    "unknown_instance": lambda keys: {INSTANCE: f"i_{uuid.uuid4().hex[:16]}",
                                      KEY: keys.api_key},
    "wrong_key": lambda keys: {INSTANCE: keys.instance_id, KEY: keys.strangers_key},
    "revoked_key": lambda keys: _headers(keys.revoked),
    "rotated_out_key": lambda keys: _headers(keys.rotated_out),
}
ANOTHER_TENANT = "another_tenants_resources"
CASES = (*BAD_CREDENTIALS, ANOTHER_TENANT)


@dataclass
class World:
    deps: Deps
    client: FlaskClient
    owner_tenant: str
    keys: Keys
    stranger: dict[str, str]  # valid headers of another tenant
    owned: Resources
    secrets: list[str]  # the owner's ids, keys and content: no other caller may see them

    def owner_state(self) -> str:
        """The owner's tasks, files and indexes as stored: no call here may change them."""
        stored = [*self.deps.tasks.list_for_tenant(self.owner_tenant, limit=100, after=None)[0],
                  *self.deps.assets.list_for_tenant(self.owner_tenant),
                  self.deps.files.get(owner_id(self.owned.path))]
        return "\n".join(item.model_dump_json() for item in stored if item is not None)


@pytest.fixture(scope="module")
def world(blueprint_bytes: bytes) -> World:
    """An owner with an upload, a completed DEPLOY_RAG_CORPUS task and its story index, keys
    in every state, and a stranger with a valid key and things of its own."""
    deps = fake_deps()
    owner, stranger = FakeEdge.of(deps), FakeEdge.of(deps)
    served = owner.client.get("/api/v1/openapi.json").get_json()
    assert served["paths"] == DOCUMENT["paths"]  # the matrix's operations are this app's
    dataset = owner.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    asset_id = str(uuid.uuid4())
    deployed = owner.run(edge_request("deploy_rag_corpus", blueprint_input_path=dataset,
                                      facts_input_path=None, asset_id=asset_id))
    assert deployed["status"] == "COMPLETED", deployed.get("error")
    search = owner.client.get(f"/api/v1/assets/{asset_id}/search/", headers=owner.headers,
                              query_string={"q": SEARCH_TERMS})
    passages = [hit["text"] for hit in search.get_json()["hits"]]
    assert passages, search.get_json()

    their_file = stranger.upload("narration.json", b'{"narration_script": []}')
    theirs = stranger.create({"task_type": "GENERATE_DUBBING",
                              "payload": {"input_narration_path": their_file}})
    assert theirs.status_code == 202, theirs.get_json()

    revoked = auth.add_instance(deps, owner.tenant)
    auth.revoke_key(deps, revoked.instance_id)
    rotated_out = auth.add_instance(deps, owner.tenant)
    auth.rotate_key(deps, rotated_out.instance_id)
    keys = Keys(owner.headers[INSTANCE], owner.headers[KEY], revoked, rotated_out,
                stranger.headers[KEY])
    owned = Resources(task_id=deployed["id"], path=dataset, asset_id=asset_id)
    artifacts = [artifact["path"] for artifact in deployed["result"]["artifacts"]]
    secrets = [*astuple(owned), *artifacts, *passages, owner.tenant, *owner.headers.values(),
               revoked.instance_id, revoked.api_key, rotated_out.instance_id,
               rotated_out.api_key]
    return World(deps, owner.client, owner.tenant, keys, stranger.headers, owned, secrets)


def _ghost(resources: Resources) -> Resources:
    """Ids of the same shapes that no tenant has."""
    filename = resources.path.rsplit("/", 1)[1]
    return Resources(task_id=uuid.uuid4().hex, path=f"uploads/{uuid.uuid4().hex}/{filename}",
                     asset_id=str(uuid.uuid4()))


def _as_if(response: TestResponse, ghost: Resources, owned: Resources) -> str:
    """The answer about `ghost`, with its ids replaced by the owner's."""
    text = response.get_data(as_text=True)
    for ghost_value, owned_value in zip(astuple(ghost), astuple(owned), strict=True):
        text = text.replace(ghost_value, owned_value)
    return text


def _assert_error_body(operation: Operation, response: TestResponse, status: str) -> None:
    declared = operation.spec["responses"]
    assert status in declared, f"{operation.name} does not declare {status}"
    assert declared[status]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody")
    assert response.status_code == int(status), (operation.name, response.get_data()[:500])
    body = response.get_json()
    assert response.mimetype == "application/json" and set(body) == {
        "code", "message", "details"}, body
    ErrorBody.model_validate(body)


def _assert_no_secret(world: World, request: Request, headers: dict[str, str],
                      response: TestResponse) -> None:
    """Nothing of the owner's is in the answer, except what the caller sent itself."""
    sent = request.text() + " ".join(headers.values())
    answer = response.get_data(as_text=True) + " ".join(response.headers.values())
    leaked = [secret for secret in world.secrets if secret not in sent and secret in answer]
    assert leaked == [], f"the answer holds the owner's {leaked}"


@dataclass(frozen=True)
class Cell:
    operation: Operation
    case: str

    @property
    def id(self) -> str:
        return f"{self.operation.name}-{self.case}"


MATRIX = [Cell(operation, case) for operation in OPERATIONS for case in CASES]


@pytest.fixture
def unchanged(world: World) -> Iterator[None]:
    before = world.owner_state()
    yield
    assert world.owner_state() == before, "the call changed the owner's tasks, files or indexes"


@pytest.mark.parametrize("cell", MATRIX, ids=[cell.id for cell in MATRIX])
def test_authorization(world: World, unchanged: None, cell: Cell) -> None:
    operation = cell.operation
    # Every call names the owner's resources: only the credential decides.
    headers = (world.stranger if cell.case == ANOTHER_TENANT
               else BAD_CREDENTIALS[cell.case](world.keys))
    request = build_request(operation, world.owned)
    response = request.send(world.client, headers)
    assert response.status_code < 500, (operation.name, response.get_data()[:500])
    _assert_no_secret(world, request, headers, response)

    if operation.public:
        assert response.status_code in operation.success_statuses(), (
            operation.name, response.status_code)
    elif cell.case != ANOTHER_TENANT:
        _assert_error_body(operation, response, UNAUTHENTICATED)
    elif any(value in request.text() for value in astuple(world.owned)):
        # Another tenant's resource is answered exactly as one that does not exist.
        _assert_error_body(operation, response, NOT_FOUND)
        ghost = _ghost(world.owned)
        missing = build_request(operation, ghost).send(world.client, headers)
        assert (response.status_code, response.get_data(as_text=True)) == (
            missing.status_code, _as_if(missing, ghost, world.owned))
    else:  # names nothing of the owner's (a list, an upload): the stranger's own answer
        assert response.status_code in operation.success_statuses(), (
            operation.name, response.get_data()[:500])


def test_the_matrix_covers_every_operation_the_app_serves() -> None:
    app = create_app(fake_deps())
    served = [(rule.rule, method) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static"
              for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}]
    documented = {(op.path, op.method) for op in OPERATIONS}
    assert len(documented) == len(served) == sum(
        method in METHODS for item in DOCUMENT["paths"].values() for method in item)
    media_types = sum(len(item[method].get("requestBody", {}).get("content", {None: None}))
                      for item in DOCUMENT["paths"].values() for method in item)
    assert len(MATRIX) == media_types * len(CASES)
    assert {cell.operation.spec["operationId"] for cell in MATRIX} == {
        spec["operationId"] for item in DOCUMENT["paths"].values() for spec in item.values()}
    # Public by design, and only these: the service's own description.
    assert {op.spec["operationId"] for op in OPERATIONS if op.public} == {
        "getHealth", "getOpenApi"}
