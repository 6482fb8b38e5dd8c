"""Task creation under an `Idempotency-Key`, with fake ports: the same key and body give the first
request's task (one task, one stage message), another body a 422, another tenant its own task,
a malformed key a 400, and an expired key a new task; retries after a 503 never make a second
task, and a refused request leaves its key unused."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.fakes import FakeClock, FakePublisher, FakeScheduler, fake_api_deps
from tests.support.tasks import valid_dataset
from vss.api.app import create_app
from vss.deps import Deps
from vss.domain import idempotency as keys
from vss.domain.tasks import TaskStatus
from vss.errors import BadRequest, IdempotencyKeyReused, RetryableError
from vss.service import auth, idempotency, tasks

KEY = "3f1c-retry-me"


@pytest.fixture
def deps() -> Deps:
    return fake_api_deps()


def _published(deps: Deps) -> list[str]:
    assert isinstance(deps.publisher, FakePublisher)
    return [attributes["task_id"] for _, _, attributes in deps.publisher.published]


def _body(path: str, **service_params: Any) -> tasks.CreateTask:
    payload: dict[str, Any] = {"blueprint_path": path}
    if service_params:
        payload["service_params"] = service_params
    return tasks.CreateTask(task_type="GENERATE_NARRATION", payload=payload)


def _stored(deps: Deps) -> dict[str, Any]:
    return deps.tasks.docs  # type: ignore[attr-defined,no-any-return]


# ------------------------------------------------------------------ the use case


def test_the_same_key_and_body_give_the_first_task_and_one_stage_message(
    deps: Deps, blueprint_bytes: bytes
):
    body = _body(valid_dataset(deps, blueprint_bytes))
    first = idempotency.create_task(deps, "t1", body, KEY)
    again = idempotency.create_task(deps, "t1", body, KEY)
    assert not first.replayed and again.replayed
    assert again.task.id == first.task.id and list(_stored(deps)) == [first.task.id]
    assert _published(deps) == [first.task.id]
    assert len(deps.deadlines.scheduled) == 1  # type: ignore[attr-defined]


def test_a_replay_shows_the_task_as_it_is_now(deps: Deps, blueprint_bytes: bytes):
    body = _body(valid_dataset(deps, blueprint_bytes))
    first = idempotency.create_task(deps, "t1", body, KEY)
    tasks.cancel_task(deps, "t1", first.task.id)
    again = idempotency.create_task(deps, "t1", body, KEY)
    assert again.replayed and again.task.status == TaskStatus.CANCELED


def test_the_same_key_with_another_body_is_refused_naming_the_key(
    deps: Deps, blueprint_bytes: bytes
):
    path = valid_dataset(deps, blueprint_bytes)
    idempotency.create_task(deps, "t1", _body(path), KEY)
    with pytest.raises(IdempotencyKeyReused) as refused:
        idempotency.create_task(deps, "t1", _body(path, lang="en"), KEY)
    assert refused.value.http_status == 422 and refused.value.code == IdempotencyKeyReused.code
    assert refused.value.details["idempotency_key"] == KEY
    assert refused.value.details["errors"][0]["pointer"] == "/headers/Idempotency-Key"
    assert len(_stored(deps)) == 1 and len(_published(deps)) == 1


def test_tenants_do_not_share_keys(deps: Deps, blueprint_bytes: bytes):
    mine = idempotency.create_task(deps, "t1", _body(valid_dataset(deps, blueprint_bytes)), KEY)
    theirs = idempotency.create_task(
        deps, "t2", _body(valid_dataset(deps, blueprint_bytes, tenant="t2")), KEY)
    assert not mine.replayed and not theirs.replayed
    assert mine.task.id != theirs.task.id and theirs.task.tenant_id == "t2"
    assert len(_published(deps)) == 2


def test_an_expired_key_creates_a_new_task(deps: Deps, blueprint_bytes: bytes):
    body = _body(valid_dataset(deps, blueprint_bytes))
    clock = deps.clock
    assert isinstance(clock, FakeClock)
    first = idempotency.create_task(deps, "t1", body, KEY)
    clock.advance(keys.LIFETIME.total_seconds() - 1)
    assert idempotency.create_task(deps, "t1", body, KEY).task.id == first.task.id
    clock.advance(1)  # the record is still stored (TTL deletion lags) but no longer counts
    later = idempotency.create_task(deps, "t1", body, KEY)
    assert not later.replayed and later.task.id != first.task.id
    # ...and the key now stands for the new task, with another body allowed again.
    assert idempotency.create_task(deps, "t1", body, KEY).task.id == later.task.id


def test_without_a_key_every_request_creates_a_task(deps: Deps, blueprint_bytes: bytes):
    body = _body(valid_dataset(deps, blueprint_bytes))
    ids = {idempotency.create_task(deps, "t1", body, None).task.id for _ in range(2)}
    assert len(ids) == 2 and deps.idempotency.docs == {}  # type: ignore[attr-defined]


def test_a_refused_request_leaves_its_key_unused(deps: Deps, blueprint_bytes: bytes):
    from vss.errors import NotFound

    with pytest.raises(NotFound):
        idempotency.create_task(deps, "t1", _body("uploads/0123abcd/none.json"), KEY)
    with pytest.raises(BadRequest):
        idempotency.create_task(deps, "t1", _body("uploads/0123abcd/none.json", lang="xx"), KEY)
    created = idempotency.create_task(deps, "t1", _body(valid_dataset(deps, blueprint_bytes)),
                                      KEY)
    assert not created.replayed


def test_a_retry_after_the_deadline_could_not_be_scheduled_creates_the_recorded_task(
    deps: Deps, blueprint_bytes: bytes
):
    """The key is claimed before anything else: the failed request named the task's id, and
    the retry stores the task under it."""
    body = _body(valid_dataset(deps, blueprint_bytes))
    assert isinstance(deps.deadlines, FakeScheduler)
    deps.deadlines.fail_with = RetryableError("queue unavailable")
    with pytest.raises(RetryableError):
        idempotency.create_task(deps, "t1", body, KEY)
    assert _stored(deps) == {}
    (record,) = deps.idempotency.docs.values()  # type: ignore[attr-defined]
    deps.deadlines.fail_with = None
    retried = idempotency.create_task(deps, "t1", body, KEY)
    assert not retried.replayed and retried.task.id == record.task_id
    assert _published(deps) == [record.task_id]


class _FailingOnce(FakePublisher):
    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    def publish(self, topic: str, data: bytes, **attributes: str) -> str:
        if self.failures:
            self.failures -= 1
            raise RetryableError("Publishing failed.")
        return super().publish(topic, data, **attributes)


def test_a_retry_after_the_publish_failed_gets_the_stored_task_and_publishes_nothing(
    blueprint_bytes: bytes
):
    """The stored-but-unpublished task is the watchdog's to publish; a retry must only not
    make a second one."""
    deps = fake_api_deps()
    deps.publisher = _FailingOnce()
    body = _body(valid_dataset(deps, blueprint_bytes))
    with pytest.raises(RetryableError):
        idempotency.create_task(deps, "t1", body, KEY)
    (stored,) = _stored(deps)
    retried = idempotency.create_task(deps, "t1", body, KEY)
    assert retried.replayed and retried.task.id == stored
    assert _published(deps) == [] and len(_stored(deps)) == 1


def test_of_two_requests_racing_with_one_key_one_stores_and_publishes(
    deps: Deps, blueprint_bytes: bytes, monkeypatch: pytest.MonkeyPatch
):
    """The second request finds the first one's record but not yet its task; it stores the
    task under the recorded id first, and the first request's write then finds it taken."""
    body = _body(valid_dataset(deps, blueprint_bytes))
    claim = deps.idempotency.claim
    racer: list[idempotency.Creation] = []

    def claim_then_race(record: keys.IdempotencyRecord, now: Any) -> keys.IdempotencyRecord:
        stored = claim(record, now)
        if not racer:  # the other request arrives between our claim and our write
            racer.append(idempotency.create_task(deps, "t1", body, KEY))
        return stored

    monkeypatch.setattr(deps.idempotency, "claim", claim_then_race)
    first = idempotency.create_task(deps, "t1", body, KEY)
    assert not racer[0].replayed and first.replayed
    assert first.task.id == racer[0].task.id and len(_stored(deps)) == 1
    assert _published(deps) == [first.task.id]


# ------------------------------------------------------------------ over HTTP


@pytest.fixture
def client(deps: Deps) -> FlaskClient:
    return create_app(deps).test_client()


def _caller(deps: Deps, name: str) -> tuple[str, dict[str, str]]:
    creds = auth.create_tenant(deps, name)
    tenant = auth.authenticate(deps, creds.instance_id, creds.api_key).tenant_id
    return tenant, {"X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key}


def test_over_http_a_creation_is_202_and_its_replay_200(deps: Deps, client: FlaskClient,
                                                        blueprint_bytes: bytes):
    tenant, headers = _caller(deps, "acme")
    body = {"task_type": "GENERATE_NARRATION",
            "payload": {"blueprint_path": valid_dataset(deps, blueprint_bytes, tenant)}}
    keyed = {**headers, "Idempotency-Key": KEY}
    created = client.post("/api/v1/tasks/", headers=keyed, json=body)
    # The same body in another key order is the same body.
    replay = client.post("/api/v1/tasks/", headers=keyed, json=dict(reversed(body.items())))
    assert (created.status_code, replay.status_code) == (202, 200)
    assert replay.get_json()["id"] == created.get_json()["id"]
    other = client.post("/api/v1/tasks/", headers=keyed, json={**body, "task_type": "X"})
    assert other.status_code == 422
    assert other.get_json()["code"] == IdempotencyKeyReused.code
    assert other.get_json()["details"]["idempotency_key"] == KEY
    assert set(other.get_json()) == {"code", "message", "details"}
    assert len(_stored(deps)) == 1 and len(_published(deps)) == 1


@pytest.mark.parametrize("raw", ["", "x" * 256, "\x7f"])
def test_over_http_a_malformed_key_is_400_and_nothing_is_created(deps: Deps, client: FlaskClient,
                                                                 blueprint_bytes: bytes,
                                                                 raw: str):
    tenant, headers = _caller(deps, "acme")
    body = {"task_type": "GENERATE_NARRATION",
            "payload": {"blueprint_path": valid_dataset(deps, blueprint_bytes, tenant)}}
    response = client.post("/api/v1/tasks/", headers={**headers, "Idempotency-Key": raw},
                           json=body)
    answer = response.get_json()
    assert response.status_code == 400 and answer["code"] == BadRequest.code
    assert [e["pointer"] for e in answer["details"]["errors"]] == ["/headers/Idempotency-Key"]
    assert _stored(deps) == {} and deps.idempotency.docs == {}  # type: ignore[attr-defined]
