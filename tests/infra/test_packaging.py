"""`make package`: one deterministic zip per function, laid out the way the Python buildpack
and functions-framework expect, plus the tfvars file Terraform reads."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.paths import ROOT
from tests.support.terraform import entry_points, root

SCRIPT = ROOT / "scripts" / "package_functions.py"


@pytest.fixture(scope="module")
def packager() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_functions", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def packaged(packager: ModuleType, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("functions")
    return out, packager.package(ROOT, out)


def test_one_archive_per_function(packaged):
    out, archives = packaged
    assert {a.function for a in archives} == set(entry_points()) == set(root().locals["functions"])
    assert sorted(p.name for p in out.glob("*.zip")) == sorted(a.path.name for a in archives)


def test_archive_layout(packaged):
    _, archives = packaged
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    shared = ROOT / "shared" / "vss"
    expected_vss = {
        f"vss/{p.relative_to(shared).as_posix()}"
        for p in shared.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"}
    }
    for archive in archives:
        with zipfile.ZipFile(archive.path) as z:
            names = set(z.namelist())
            assert {"main.py", "vss/__init__.py", "requirements.txt"} <= names
            assert (
                z.read("main.py")
                == (ROOT / "functions" / archive.function / "main.py").read_bytes()
            )
            assert {n for n in names if n.startswith("vss/")} == expected_vss
            assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
            requirements = z.read("requirements.txt").decode().splitlines()
            assert [r for r in requirements if not r.startswith("#")] == dependencies
            assert z.testzip() is None


def test_archives_are_named_by_content_and_reproducible(packager, packaged, tmp_path: Path):
    _, first = packaged
    second = packager.package(ROOT, tmp_path)
    for a, b in zip(first, second, strict=True):
        data = a.path.read_bytes()
        assert data == b.path.read_bytes()
        assert a.sha256 == hashlib.sha256(data).hexdigest()
        assert a.path.name == f"{a.function}-{a.sha256[:16]}.zip"


def test_repackaging_replaces_superseded_archives(packager, tmp_path: Path):
    stale = tmp_path / "api-0123456789abcdef.zip"
    other = tmp_path / "api-notes.txt"
    stale.write_bytes(b"old")
    other.write_text("kept")
    packager.package(ROOT, tmp_path)
    assert not stale.exists()
    assert other.exists()
    assert len(list(tmp_path.glob("api-*.zip"))) == 1


def test_tfvars_match_the_archives_and_the_terraform_variable(packaged):
    out, archives = packaged
    tfvars = json.loads((out / "sources.tfvars.json").read_text())
    assert set(tfvars) == {"function_sources"}
    sources = tfvars["function_sources"]
    assert sources == {a.function: {"path": str(a.path), "sha256": a.sha256} for a in archives}
    assert all(Path(s["path"]).is_absolute() for s in sources.values())
    # The variable's object type has exactly these fields.
    type_text = root().variables["function_sources"]["type"]
    assert "path" in type_text and "sha256" in type_text


def test_make_deploy_reads_the_file_the_packager_writes(packager):
    makefile = (ROOT / "Makefile").read_text()
    assert f"SOURCES_TFVARS := build/functions/{packager.TFVARS_NAME}" in makefile
    assert "-var-file=$(abspath $(SOURCES_TFVARS))" in makefile
