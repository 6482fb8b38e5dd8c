"""`emulators/stack.py` as an operator runs it, without emulators: a missing prerequisite stops
`up` with one line, and `down` stops exactly the process groups its pid files recorded; and a
function's concurrency bound in the topology reaches its functions-framework process.

Each test points VSS_STATE_DIR at a temporary directory, so a running stack is never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from emulators.components import JVM_OPTIONS, emulator_component, function_component
from emulators.config import LEDGER_DIR, Config
from emulators.processes import start_time
from emulators.topology import TOPOLOGY, Emulator, Function, Trigger
from tests.support.paths import ROOT
from vss.adapters.permissions import LEDGER_ENV

STACK = ROOT / "emulators" / "stack.py"


def _stack(state_dir: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "VSS_STATE_DIR": str(state_dir), **env}
    return subprocess.run([sys.executable, str(STACK), command], env=environ, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_up_with_a_missing_emulator_prints_one_line_naming_it(tmp_path: Path):
    state = tmp_path / "state"
    missing = tmp_path / "no-such-dir" / "cloud_firestore_emulator"

    run = _stack(state, "up", VSS_FIRESTORE_EMULATOR_BIN=str(missing))

    assert run.returncode == 1
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"stack up: missing: Firestore emulator ({missing})")
    assert "Pub/Sub" not in lines[0] and "Traceback" not in run.stderr
    assert not state.exists()  # nothing written, nothing started


def test_up_names_every_missing_emulator_on_the_same_line(tmp_path: Path):
    firestore, pubsub = tmp_path / "firestore-gone", tmp_path / "pubsub-gone"

    run = _stack(tmp_path / "state", "up", VSS_FIRESTORE_EMULATOR_BIN=str(firestore),
                 VSS_PUBSUB_EMULATOR_BIN=str(pubsub))

    assert run.returncode == 1
    [line] = run.stderr.splitlines()
    assert f"Firestore emulator ({firestore})" in line and f"Pub/Sub emulator ({pubsub})" in line


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()


def _sleeper(started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    # Its own session, as `up` starts every component: the pid is also the process group.
    process = subprocess.Popen(["sleep", "120"], start_new_session=True)
    started.append(process)
    return process


def test_down_stops_exactly_the_processes_it_recorded(
    tmp_path: Path, sleepers: list[subprocess.Popen[bytes]]
):
    pids = tmp_path / "state" / "pids"
    pids.mkdir(parents=True)
    ours = _sleeper(sleepers)
    stranger = _sleeper(sleepers)  # a recycled pid: same number, another process
    gone = subprocess.Popen(["true"])
    gone.wait()
    (pids / "api.pid").write_text(f"{ours.pid}\n{start_time(ours.pid)}\n8090\n")
    (pids / "deadline.pid").write_text(
        f"{stranger.pid}\n{int(start_time(stranger.pid)) - 7}\n8093\n"
    )
    (pids / "on_upload.pid").write_text(f"{gone.pid}\n12345\n8091\n")
    (pids / "gcs.pid").write_text("not a pid\n")

    run = _stack(tmp_path / "state", "down")

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "stack down: stopped api"
    assert ours.wait(timeout=10) == -15  # SIGTERM to its group
    assert stranger.poll() is None, "a process down did not start was signalled"
    assert list(pids.iterdir()) == []


def test_down_with_nothing_recorded_does_nothing(tmp_path: Path):
    run = _stack(tmp_path / "state", "down")

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "stack down: stopped nothing (nothing was running)"


def test_a_function_with_bounded_concurrency_serves_that_many_requests_at_once():
    cfg = Config("vss-local", {"tts": 9000})
    bounded = Function("tts", "tts", Trigger.PUSH, 9000, max_concurrency=3)

    # One request per process, as production's instances of concurrency 1.
    assert function_component(cfg, bounded).env["WORKERS"] == "3"
    assert function_component(cfg, bounded).env["THREADS"] == "1"
    unbounded = function_component(cfg, replace(bounded, max_concurrency=None)).env
    assert "THREADS" not in unbounded and "WORKERS" not in unbounded


def test_the_java_emulators_run_with_light_jvm_options():
    cfg = Config("vss-local", {"firestore": 8081, "pubsub": 8085, "tasks": 9022})
    for name in ("firestore", "pubsub", "tasks"):
        env = emulator_component(cfg, Emulator(name, cfg.ports[name]), TOPOLOGY).env
        assert env.get("JAVA_TOOL_OPTIONS") == (None if name == "tasks" else JVM_OPTIONS), name


def test_each_function_records_its_permissions_in_a_ledger_of_its_own():
    cfg = Config("vss-local", {"tts": 9000})
    component = function_component(cfg, Function("tts", "tts", Trigger.PUSH, 9000))
    assert component.env[LEDGER_ENV] == str(LEDGER_DIR / "tts.jsonl")
