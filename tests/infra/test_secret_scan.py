"""The secret scan of `make lint` (scripts/check_secrets.py) finds a planted key, accepts the
made-up values its baseline lists wherever they move, and passes on the repository as it is."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.paths import ROOT
from tests.support.scripts import load_script

# A made-up key in the shape detect-secrets knows (an AWS access key id), split so that this
# file itself holds none.
PLANTED = "AKIA" + "ZQ3VXK7PLM2TY5WN"


@pytest.fixture(scope="module")
def checker() -> ModuleType:
    return load_script("check_secrets")


def test_a_planted_key_is_found_and_a_listed_one_is_not(checker: ModuleType, tmp_path: Path):
    (tmp_path / "settings.py").write_text(f'KEY_ID = "{PLANTED}"\n')
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    assert checker.new_findings(tmp_path) == ["settings.py:1: AWS Access Key"]

    (tmp_path / checker.BASELINE).write_text(json.dumps(checker.scan(tmp_path)))
    (tmp_path / "settings.py").write_text(f'# one line down\nKEY_ID = "{PLANTED}"\n')
    assert checker.new_findings(tmp_path) == []  # known by its hash, wherever it moved


def test_the_repository_has_no_secret_outside_its_baseline(checker: ModuleType):
    assert checker.new_findings(ROOT) == []
