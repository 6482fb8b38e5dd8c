"""Unit tests run the pure core and the service layer on fakes: no subprocess, no server."""

from __future__ import annotations

import os
import socket
import subprocess
from typing import Any

import pytest

from tests.support.fake_audio import RecordingSpeechEngine
from tests.support.fakes import fake_deps
from tests.support.tasks import narration_task, valid_dataset
from vss.deps import Deps
from vss.domain.messages import StageMessage
from vss.domain.tasks import Stage, Task
from vss.service import stages, tasks


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a unit test tried to {what}: use a fake from tests/support")

    return refuse


@pytest.fixture(autouse=True)
def _no_processes_or_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a subprocess"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("start a server"))
    monkeypatch.setattr(socket.socket, "connect", _refuse("open a connection"))


@pytest.fixture(autouse=True)
def _no_stack_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
                       ) -> None:
    """Settings come from each test alone: the local stack's (exported into this process by
    an earlier stack test of the same run, or loaded from its `.vss/local.env` by the CLI)
    never leak in."""
    for name in list(os.environ):
        if name.startswith("VSS_") or name.endswith("_EMULATOR_HOST"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VSS_STATE_DIR", str(tmp_path_factory.getbasetemp() / "no-stack"))


@pytest.fixture
def speech() -> RecordingSpeechEngine:
    return RecordingSpeechEngine()


@pytest.fixture(scope="module")
def narration_path(blueprint_bytes: bytes) -> tuple[Deps, str]:
    deps = fake_deps()
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION))
    done = deps.tasks.get(task.id)
    assert done is not None
    assert done.main_result is not None
    return deps, done.main_result.output_file_path


@pytest.fixture
def planned(narration_path: tuple[Deps, str], speech: RecordingSpeechEngine) -> tuple[Deps, Task]:
    """A dubbing task whose plan stage ran: its segments are published, none delivered."""
    shared, path = narration_path
    deps = fake_deps(speech)
    deps.blobs = shared.blobs  # the narration script written by the first task
    task = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_DUBBING", payload={"input_narration_path": path}))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.DUBBING))
    planned = deps.tasks.get(task.id)
    assert planned is not None
    return deps, planned
