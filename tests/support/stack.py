"""Fixtures for tests that need the local stack (`make up`): endpoints, tenants, clients."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.paths import ROOT
from vss.config import Settings, load_local_env
from vss.edge.client import EdgeClient

# Where `emulators/stack.py` keeps its state: `.vss/`, or VSS_STATE_DIR for a second stack.
STATE_DIR = Path(os.environ.get("VSS_STATE_DIR") or ROOT / ".vss").absolute()
ENV_FILE = STATE_DIR / "local.env"


def function_pid(name: str) -> int:
    """The process (group) id of a stack component, as `stack.py up` recorded it."""
    return int((STATE_DIR / "pids" / f"{name}.pid").read_text().split()[0])


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by each process of the stack (by its pid file), its children
    (a function's server worker) included."""
    import psutil

    used = {}
    for pid_file in (STATE_DIR / "pids").glob("*.pid"):
        try:
            process = psutil.Process(int(pid_file.read_text().split()[0]))
            times = [process.cpu_times(), *(c.cpu_times() for c in process.children(True))]
            used[pid_file.stem] = sum(t.user + t.system for t in times)
        except (psutil.Error, ValueError, OSError):
            continue
    return used


def log_file(component: str) -> Path:
    return STATE_DIR / "logs" / f"{component}.log"


def logged_since(component: str, offset: int) -> list[str]:
    """The lines a component logged after byte `offset` of its log (`log_file(...).stat()`)."""
    with log_file(component).open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace").splitlines()


def stack_env() -> dict[str, str]:
    if not ENV_FILE.exists():
        pytest.fail("The local stack is not running: run `make up` (make test does it).")
    values = load_local_env(ENV_FILE)
    try:
        requests.get(values["VSS_API_URL"] + "/api/v1/health/", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        pytest.fail(f"The API of the local stack does not answer ({exc}): run `make up`.")
    return values


def stack_settings() -> Settings:
    stack_env()
    return Settings()


def unwatched_bucket(name: str) -> str:
    """A bucket in fake-gcs-server that no function of the stack acts on (fake-gcs notifies
    for the uploads bucket alone, and on_upload checks only that one), for tests that land
    uploads and deliver their messages themselves; created if missing. Returns its name."""
    from google.api_core import exceptions

    from emulators.clients import storage_client
    from emulators.config import load_config

    stack_env()
    with contextlib.suppress(exceptions.Conflict):  # made by an earlier test
        storage_client(load_config()).create_bucket(name)
    return name


def vss_cli_text(*args: str) -> str:
    """Run the `vss` console script as an operator would; return what it printed."""
    out = subprocess.run(
        [str(Path(sys.executable).parent / "vss"), *args], capture_output=True, text=True,
        check=True, cwd=ROOT, env=os.environ.copy(),
    )
    return out.stdout


def vss_cli(*args: str) -> Any:
    """Run the `vss` console script as an operator would; return its JSON output."""
    return json.loads(vss_cli_text(*args))


def console_token(minutes: int = 10) -> str:
    """A token the stack's console accepts at its login page (`vss admin console-token`,
    signed with the VSS_CONSOLE_SECRET of the stack's local.env)."""
    stack_env()
    return vss_cli_text("admin", "console-token", "--minutes", str(minutes)).strip()


def console_url() -> str:
    """The stack's console, without the trailing slash: `http://127.0.0.1:8096/console`."""
    url = stack_env().get("VSS_CONSOLE_URL")
    if not url:
        pytest.fail("The stack has no console (an older local.env): run `make down; make up`.")
    return url.rstrip("/")


def new_tenant() -> tuple[EdgeClient, dict[str, str]]:
    env = stack_env()
    creds = vss_cli("admin", "create-tenant", "--name", f"test-{uuid.uuid4().hex[:8]}")
    return EdgeClient(env["VSS_API_URL"], creds["instance_id"], creds["api_key"]), creds


def restart_stack(**env: str) -> None:
    """`stack.py up` again (it restarts what died) with the stack's own settings, so a
    restarted function keeps them (e.g. the test stack's speech engines), plus `env`."""
    values = load_local_env(ENV_FILE) if ENV_FILE.exists() else {}
    subprocess.run([sys.executable, "emulators/stack.py", "up"], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, **values, **env})


def wait_until(check: Callable[[], Any], timeout: float = 60, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
