"""`vss admin` as an operator runs it against the local stack: from a subdirectory of the
checkout (it finds `.vss/local.env` itself), every command, and errors as one line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import ROOT
from tests.support.stack import ENV_FILE, stack_env

pytestmark = pytest.mark.integration

VSS = Path(sys.executable).parent / "vss"


def _vss(*args: str) -> subprocess.CompletedProcess[str]:
    # Only what a shell would have: the stack's endpoints must come from .vss/local.env.
    stack_keys = {line.split("=", 1)[0] for line in ENV_FILE.read_text().splitlines()}
    env = {k: v for k, v in os.environ.items() if k not in stack_keys}
    return subprocess.run([str(VSS), *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT / "shared" / "vss", env=env, check=False)


def _ok(*args: str) -> Any:
    run = _vss(*args)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _error(*args: str) -> str:
    run = _vss(*args)
    assert run.returncode == 2 and run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr, run.stderr
    return run.stderr.strip()


def test_admin_commands_against_the_stack():
    stack_env()
    name = f"cli-{uuid.uuid4().hex[:8]}"
    first = _ok("admin", "create-tenant", "--name", name)
    tenant = first["tenant_id"]
    assert {"id": tenant, "name": name} in [
        {"id": t["id"], "name": t["name"]} for t in _ok("admin", "list-tenants")]

    second = _ok("admin", "add-instance", "--tenant", tenant)
    listed = _ok("admin", "list-instances", "--tenant", tenant)
    assert {i["id"] for i in listed} == {first["instance_id"], second["instance_id"]}
    assert all("key_hash" not in i and i["active"] for i in listed)

    rotated = _ok("admin", "rotate-key", first["instance_id"])
    assert rotated["instance_id"] == first["instance_id"]
    assert rotated["api_key"] != first["api_key"]
    assert _ok("admin", "revoke-key", second["instance_id"]) == {
        "instance_id": second["instance_id"], "active": False}

    assert "'a/b' is not a valid id" in _error("admin", "rotate-key", "a/b")
    missing = f"i_{uuid.uuid4().hex[:16]}"
    assert _error("admin", "rotate-key", missing) == f"vss: Instance {missing} does not exist."
    assert _error("admin", "add-instance", "--tenant", "t_none") == (
        "vss: Tenant t_none does not exist.")
