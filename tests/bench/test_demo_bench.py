"""The fresh-clone `make demo` benchmark, short of running it (it starts a stack of its own):
its command line, how make's output splits into phases, and what of this environment the
clone's make does not see (tests.support.fresh_clone)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.fresh_clone import clean_env, phases
from tests.support.paths import ROOT

MARKERS = (("setup", ""), ("stack", "emulators/stack.py up"), ("tenant", "scripts/demo.py"),
           ("run", "== vss run"), ("demo_media", "== vss demo-media"),
           ("render", "== vss render"), ("summary", "== summary"))


def _bench(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.bench.demo", *argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def test_its_help_says_what_is_measured():
    done = _bench("--help")
    assert done.returncode == 0, done.stderr
    assert "demo.fresh_seconds" in done.stdout and "--port-offset" in done.stdout
    assert "What is measured: the wall time of `make demo`" in done.stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["--port-offset", "x"], "invalid int value: 'x'"),
    (["--timeout", "0"], "--timeout must be positive")])
def test_bad_arguments_are_usage_errors_before_anything_runs(argv: list[str], message: str):
    done = _bench(*argv)
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


def test_make_s_output_splits_into_phases():
    lines = [(0.5, "installing Debian packages: ffmpeg"),
             (40.0, ".venv/bin/python emulators/stack.py up"),
             (55.0, ".venv/bin/python scripts/demo.py"),
             (56.5, "== vss run examples/blueprint_contract_girlfriend.json ..."),
             (86.5, "== vss demo-media: episodes 1,3 (2 to make, the cut's ranges only)"),
             (90.0, "== vss render -> build/demo/preview.mp4"),
             (99.0, "== summary"),
             (99.5, "== vss run (a heading seen twice is timed from its first)")]
    assert phases(lines, 100.0, MARKERS) == {
        "setup": 40.0, "stack": 15.0, "tenant": 1.5, "run": 30.0, "demo_media": 3.5,
        "render": 9.0, "summary": 1.0}
    assert phases(lines[:2], 41.0, MARKERS) == {"setup": 40.0, "stack": 1.0}  # make failed


def test_the_clone_sees_nothing_of_this_checkout(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VSS_STATE_DIR", "/elsewhere/.vss")
    monkeypatch.setenv("VSS_API_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:8086")
    monkeypatch.setenv("PYTHONPATH", "/work/main/shared")
    monkeypatch.setenv("VIRTUAL_ENV", "/work/main/.venv")
    monkeypatch.setenv("PATH", "/work/main/.venv/bin:/usr/bin")
    env = clean_env(port_offset=0)
    assert not {"VSS_STATE_DIR", "VSS_API_URL", "FIRESTORE_EMULATOR_HOST", "PYTHONPATH",
                "VIRTUAL_ENV", "VSS_PORT_OFFSET"} & set(env)
    assert env["PATH"] == "/usr/bin" and env["PYTHONUNBUFFERED"] == "1"
    assert clean_env(port_offset=1000)["VSS_PORT_OFFSET"] == "1000"
