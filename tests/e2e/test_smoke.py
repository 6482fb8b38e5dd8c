"""`vss smoke`, the command operators run after `terraform apply`, against the local stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import BLUEPRINT, ROOT
from tests.support.stack import new_tenant

pytestmark = pytest.mark.integration

VSS = Path(sys.executable).parent / "vss"


def test_the_smoke_test_passes_every_step_against_the_local_stack():
    _, creds = new_tenant()
    env = {**os.environ, "VSS_INSTANCE_ID": creds["instance_id"],
           "VSS_API_KEY": creds["api_key"]}
    done = subprocess.run([str(VSS), "smoke", str(BLUEPRINT), "--minutes", "0.5"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    steps = [line for line in lines if line[:2].strip().isdigit()]
    assert len(steps) == 10 and all(" ok " in line for line in steps), done.stdout
    assert "resume a failed task" in steps[-1] and "3004" in steps[-1]
    assert lines[-1].startswith("all 10 steps passed")


def test_a_wrong_key_is_one_line_and_exit_code_2():
    env = {**os.environ, "VSS_INSTANCE_ID": "i_nobody", "VSS_API_KEY": "wrong"}
    done = subprocess.run([str(VSS), "smoke", str(BLUEPRINT)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=env, check=False)
    assert done.returncode == 2 and "1002" in done.stderr, done.stderr
