"""The edge client and a tenant's quotas: a 429 is waited out as its `Retry-After` says and
tried again (a creation with the same key, an upload), within the client's attempts; one that
asks for longer than the edge waits (a daily quota) is reported at once, naming the quota."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_edge_api import API, FakeEdgeApi
from vss.edge.backoff import MAX_RETRY_AFTER
from vss.edge.client import ApiError, EdgeClient
from vss.edge.creation import create_task
from vss.errors import RunningTasksQuotaExceeded

BODY = {"blueprint_path": "uploads/x/b.json", "stop_at": "narration"}


def _client(api: FakeEdgeApi, slept: list[float]) -> EdgeClient:
    return EdgeClient(API, "i_1", "key", session=api.session(), storage=api.session(),
                      sleep=slept.append)


def test_a_creation_refused_for_a_quota_waits_its_retry_after_and_succeeds():
    api = FakeEdgeApi()
    api.over_quota["POST tasks"] = [30, 12]
    slept: list[float] = []
    view = create_task(_client(api, []), "GENERATE_COMMENTARY", BODY, "k-1", sleep=slept.append)
    assert slept == [30.0, 12.0]  # the server's waits, not the backoff's
    assert list(api.tasks) == [view["id"]] and api.idempotency_keys == ["k-1"]


def test_a_quota_that_frees_after_the_edges_patience_is_reported_at_once():
    api = FakeEdgeApi()
    api.over_quota["POST tasks"] = [int(MAX_RETRY_AFTER) + 1]
    slept: list[float] = []
    with pytest.raises(ApiError) as refused:
        create_task(_client(api, []), "GENERATE_COMMENTARY", BODY, "k-1", sleep=slept.append)
    assert refused.value.status == 429 and refused.value.code == RunningTasksQuotaExceeded.code
    assert refused.value.details["quota"] == "running_tasks" and slept == []


def test_retries_of_a_quota_stop_after_the_attempts():
    api = FakeEdgeApi()
    api.over_quota["POST tasks"] = [1, 1, 1]
    slept: list[float] = []
    with pytest.raises(ApiError):
        create_task(_client(api, []), "GENERATE_COMMENTARY", BODY, "k-1", attempts=3,
                    sleep=slept.append)
    assert slept == [1.0, 1.0] and api.tasks == {}


def test_a_signed_upload_refused_for_a_quota_is_asked_again(tmp_path: Path):
    dataset = tmp_path / "b.json"
    dataset.write_bytes(b"{}")
    api = FakeEdgeApi()
    api.over_quota["POST files/upload"] = [5]
    slept: list[float] = []
    signed = _client(api, slept).upload_signed(dataset, "application/json")
    assert slept == [5.0]
    assert api.files[signed["relative_path"]] == b"{}"
    assert api.calls["POST files/upload"] == 2
