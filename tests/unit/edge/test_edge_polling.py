"""The edge client polls conditionally: against the real API app (in process, fake ports) a task
that has not changed answers 304 and the client hands back the view it had; an API without
ETags (the fake edge API, as an older deployment) is polled as before."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.support.fake_edge_api import FakeEdgeApi, fake_client
from tests.support.fakes import fake_api_deps
from tests.support.poll_load import poll_load
from tests.support.wsgi_transport import API, WsgiTransport
from vss.api.app import create_app
from vss.deps import Deps
from vss.edge.backoff import Backoff
from vss.edge.client import EdgeClient
from vss.edge.follow import follow
from vss.edge.progress import QuietDisplay
from vss.service import auth, tasks, uploads


class _Recording(WsgiTransport):
    """The app, and the If-None-Match and status of every task poll it answered."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(create_app(deps))
        self.polls: list[tuple[str | None, int]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        if request.method == "GET" and "/api/v1/tasks/" in (request.url or ""):
            self.polls.append((request.headers.get("If-None-Match"), response.status_code))
        return response


@pytest.fixture
def deps() -> Deps:
    return fake_api_deps()


@pytest.fixture
def api(deps: Deps) -> _Recording:
    return _Recording(deps)


@pytest.fixture
def tenant(deps: Deps) -> auth.Credentials:
    return auth.create_tenant(deps, "edge")


@pytest.fixture
def client(api: _Recording, tenant: auth.Credentials) -> EdgeClient:
    return EdgeClient(API, tenant.instance_id, tenant.api_key, session=api.session(),
                      storage=api.session())


@pytest.fixture
def task_id(deps: Deps, tenant: auth.Credentials) -> str:
    """A task that stays PENDING (its input is still being checked) until a test changes it."""
    upload = uploads.store_upload(deps, tenant.tenant_id, "n.json", b'{"narration_script": []}')
    return tasks.create_task(deps, tenant.tenant_id, tasks.CreateTask(
        task_type="GENERATE_DUBBING",
        payload={"input_narration_path": upload.relative_path})).id


def test_a_poll_of_an_unchanged_task_transfers_no_body(client, api, task_id):
    first = client.get_task(task_id)
    again = client.get_task(task_id)
    assert again == first and again["status"] == "PENDING"
    etag = api.polls[0][0]
    assert etag is None and api.polls[0][1] == 200
    assert api.polls[1][1] == 304 and api.polls[1][0] is not None
    assert (client.polls.fetched, client.polls.not_modified) == (1, 1)
    assert client.polls.not_modified_share == 0.5


def test_the_cached_view_is_handed_out_fresh_each_time(client, task_id):
    client.get_task(task_id)["status"] = "scribbled on by a caller"
    assert client.get_task(task_id)["status"] == "PENDING"


def test_a_change_is_fetched_and_then_revalidated_under_its_new_tag(client, api, deps, tenant,
                                                                   task_id):
    client.get_task(task_id)
    tasks.cancel_task(deps, tenant.tenant_id, task_id)
    assert client.get_task(task_id)["status"] == "CANCELED"
    assert client.get_task(task_id)["status"] == "CANCELED"
    assert [status for _, status in api.polls] == [200, 200, 304]
    assert api.polls[1][0] != api.polls[2][0]  # the new tag, not the first one


def test_follow_and_wait_poll_conditionally_while_nothing_changes(client, api, deps, tenant,
                                                                  task_id):
    view = client.get_task(task_id)
    polls_before_change = 4

    def sleep(_: float) -> None:  # the task changes after a few unchanged polls
        if len(api.polls) == polls_before_change:
            tasks.cancel_task(deps, tenant.tenant_id, task_id)

    done = follow(client, view, QuietDisplay(), timeout=60, sleep=sleep,
                  backoff=Backoff(jitter=0))
    assert done["status"] == "CANCELED"
    assert [status for _, status in api.polls] == [200, 304, 304, 304, 200]
    assert client.wait(task_id, timeout=1)["status"] == "CANCELED"
    assert api.polls[-1][1] == 304


def test_an_api_without_etags_is_polled_unconditionally():
    api = FakeEdgeApi()
    sent: list[str | None] = []
    send = api.send

    def recording(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.method == "GET":
            sent.append(request.headers.get("If-None-Match"))
        return send(request, **kwargs)

    api.send = recording  # type: ignore[method-assign]
    client = fake_client(api)
    task = client.create_task("GENERATE_COMMENTARY", {"blueprint_path": "uploads/x/b.json",
                                                      "stop_at": "narration"})
    done = follow(client, task, QuietDisplay(), timeout=60, sleep=lambda _: None)
    assert done["status"] == "COMPLETED"
    assert sent and set(sent) == {None}
    assert client.polls.not_modified == 0 and client.polls.fetched == len(sent)


def test_the_polling_benchmark_reports_its_figures(api, tenant, task_id):
    """tests/bench/polling.py's measurement, in process for a fraction of a second: the figures
    come out and the polls after each client's first are 304s (no timing is asserted)."""
    def new_client() -> EdgeClient:
        return EdgeClient(API, tenant.instance_id, tenant.api_key, session=api.session())

    figures = poll_load(new_client, task_id, clients=2, seconds=0.2)
    assert figures["clients"] == 2 and figures["requests"] >= 2  # each polls at least once
    assert figures["not_modified"] == figures["requests"] - 2  # each one's first is a 200
    assert figures["not_modified_share"] == round(figures["not_modified"] / figures["requests"],
                                                  4)
    assert {"p50_ms", "p99_ms", "requests_per_second", "body_bytes_per_poll"} <= set(figures)
    unconditional = poll_load(new_client, task_id, clients=2, seconds=0.1, conditional=False)
    assert unconditional["not_modified"] == 0 and unconditional["body_bytes_per_poll"] > 0
