"""The edge CLI creates tasks with an `Idempotency-Key`: `vss task create` and `vss run` send
one, retry a failed creation with the same key (one task, however the first attempt ended),
and `vss run` keeps the key in its state file so a run stopped mid-creation finds its task."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.fake_edge_api import API, FakeEdgeApi, fake_client, run_against
from vss.cli import main
from vss.domain.idempotency import KEY_PATTERN
from vss.edge import api_commands
from vss.edge.client import ApiError
from vss.edge.connection import Connection
from vss.edge.creation import create_task
from vss.edge.state import load_state
from vss.errors import IdempotencyKeyReused

DATASET = b'{"chapters": {}, "scenes": {}}'
BODY = {"blueprint_path": "uploads/x/b.json", "stop_at": "narration"}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "blueprint.json"
    path.write_bytes(DATASET)
    return path


# ------------------------------------------------------------------ the client


def test_the_client_sends_the_key_only_when_given_one():
    api = FakeEdgeApi()
    client = fake_client(api)
    first = client.create_task("GENERATE_COMMENTARY", BODY, idempotency_key="k-1")
    again = client.create_task("GENERATE_COMMENTARY", BODY, idempotency_key="k-1")
    client.create_task("GENERATE_COMMENTARY", BODY)
    assert api.idempotency_keys == ["k-1", "k-1", None]
    assert again["id"] == first["id"] and len(api.tasks) == 2


@pytest.mark.parametrize("failure", [503, 429, requests.ConnectionError("reset by peer"),
                                     requests.ReadTimeout("no answer")])
def test_a_creation_that_failed_after_storing_is_retried_with_its_key(failure: Any):
    api = FakeEdgeApi()
    api.after_create.append(failure)
    slept: list[float] = []
    view = create_task(fake_client(api), "GENERATE_COMMENTARY", BODY, "k-1", sleep=slept.append)
    assert list(api.tasks) == [view["id"]] and api.idempotency_keys == ["k-1", "k-1"]
    assert len(slept) == 1


def test_a_refused_creation_is_not_retried():
    api = FakeEdgeApi()
    with pytest.raises(ApiError) as refused:
        create_task(fake_client(api), "GENERATE_COMMENTARY", {}, "k-1", sleep=lambda _: None)
    assert refused.value.status == 400 and api.idempotency_keys == ["k-1"]


def test_retries_stop_after_their_attempts():
    class Down:
        def __init__(self) -> None:
            self.keys: list[str | None] = []

        def create_task(self, task_type: str, payload: dict[str, Any],
                        idempotency_key: str | None = None) -> dict[str, Any]:
            self.keys.append(idempotency_key)
            raise requests.ConnectionError("connection refused")

    down = Down()
    with pytest.raises(requests.ConnectionError):
        create_task(down, "GENERATE_COMMENTARY", BODY, "k-1", attempts=3,  # type: ignore[arg-type]
                    sleep=lambda _: None)
    assert down.keys == ["k-1"] * 3


# ------------------------------------------------------------------ vss run


def test_a_run_retries_a_failed_creation_with_the_same_key(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi()
    api.after_create.append(503)
    outcome = run_against(api, dataset, tmp_path / "out")
    assert outcome.created and outcome.view["status"] == "COMPLETED"
    (key,) = set(api.idempotency_keys)
    assert len(api.idempotency_keys) == 2 and list(api.tasks) == [outcome.view["id"]]
    assert outcome.state.idempotency_key == key and re.fullmatch(KEY_PATTERN, key)


def test_a_run_stopped_mid_creation_creates_again_with_the_recorded_key(dataset: Path,
                                                                        tmp_path: Path):
    """The key is in the state file before the request goes: the next run sends it again and
    gets the task the cut-short request made, not a second one."""
    api = FakeEdgeApi()
    api.after_create.append(KeyboardInterrupt())
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_against(api, dataset, out)
    state = load_state(out)
    assert state is not None and state.task_id is None and state.idempotency_key
    assert len(api.tasks) == 1
    again = run_against(api, dataset, out)
    assert again.view["id"] == next(iter(api.tasks)) and len(api.tasks) == 1
    assert api.idempotency_keys == [state.idempotency_key] * 2
    assert not again.uploaded  # the dataset was already there


def test_a_replaced_task_or_a_new_upload_gets_a_new_key(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi()
    out = tmp_path / "out"
    first = run_against(api, dataset, out)
    api.tasks[first.view["id"]].status = "CANCELED"
    second = run_against(api, dataset, out)  # same body: the old key would answer with the old task
    assert second.view["id"] != first.view["id"]
    del api.tasks[second.view["id"]]
    api.files = {p: d for p, d in api.files.items() if not p.startswith("uploads/")}
    third = run_against(api, dataset, out)  # another blueprint_path: the old key would be a 422
    assert third.uploaded and third.view["id"] not in (first.view["id"], second.view["id"])
    assert len(set(api.idempotency_keys)) == 3
    assert third.state.idempotency_key == api.idempotency_keys[-1]


# ------------------------------------------------------------------ vss task create


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeEdgeApi:
    fake = FakeEdgeApi()
    connection = Connection(API, "i_1", "key")
    monkeypatch.setattr(api_commands, "_client", lambda args: (fake_client(fake), connection))
    monkeypatch.setattr("vss.edge.creation.time.sleep", lambda _: None)
    return fake


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_task_create_sends_a_fresh_key_each_time(api: FakeEdgeApi,
                                                 capsys: pytest.CaptureFixture[str]):
    payload = json.dumps(BODY)
    ids = {_cli(capsys, "task", "create", "GENERATE_COMMENTARY", "--payload", payload)[1]
           for _ in range(2)}
    first, second = api.idempotency_keys
    assert first != second and len(ids) == 2
    assert all(re.fullmatch(KEY_PATTERN, k or "") for k in api.idempotency_keys)


def test_task_create_with_a_given_key_is_safe_to_run_again(api: FakeEdgeApi,
                                                           capsys: pytest.CaptureFixture[str]):
    argv = ("task", "create", "GENERATE_COMMENTARY", "--payload", json.dumps(BODY),
            "--idempotency-key", "order-42")
    api.after_create.append(503)  # the first run's own retry already meets the stored task
    outputs = {_cli(capsys, *argv) for _ in range(2)}
    assert outputs == {(0, f"{next(iter(api.tasks))}\n", "")} and len(api.tasks) == 1
    assert api.idempotency_keys == ["order-42"] * 3


def test_task_create_with_a_key_used_for_another_body_is_one_line(
        api: FakeEdgeApi, capsys: pytest.CaptureFixture[str]):
    _cli(capsys, "task", "create", "GENERATE_COMMENTARY", "--payload", json.dumps(BODY),
         "--idempotency-key", "order-42")
    code, out, err = _cli(capsys, "task", "create", "GENERATE_COMMENTARY", "--payload",
                          json.dumps({**BODY, "stop_at": "editing"}),
                          "--idempotency-key", "order-42")
    assert (code, out) == (2, "") and len(api.tasks) == 1
    assert err == (f"vss: error {IdempotencyKeyReused.code}: Idempotency-Key used with another "
                   "body. (HTTP 422)\n")
