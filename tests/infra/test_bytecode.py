"""The stack compiles what its functions import once, before starting them
(emulators/bytecode.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from emulators import bytecode


def test_the_modules_a_file_imports_at_its_top_level(tmp_path: Path):
    source = tmp_path / "main.py"
    source.write_text(
        "from __future__ import annotations\nimport json, os.path\n"
        "from google.cloud import pubsub_v1\nfrom . import sibling\n"
        "def later():\n    import lazily_imported\n", encoding="utf-8")
    assert bytecode.imported_modules(source) == {
        "__future__", "__future__.annotations", "json", "os.path", "google.cloud",
        "google.cloud.pubsub_v1"}


def test_an_uncompiled_venv_is_compiled_once_whatever_the_environment_says(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    package = tmp_path / "fresh_package"
    package.mkdir()
    (package / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    (package / "part.py").write_text("from fresh_package import VALUE\n", encoding="utf-8")
    entry = tmp_path / "main.py"
    entry.write_text("import fresh_package.part\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(bytecode, "_MARKERS", ("fresh_package.part",))

    compiling = bytecode.compile_imports([entry], cwd=tmp_path)
    assert compiling is not None and compiling.wait(60) == 0
    for module in ("__init__", "part"):
        assert Path(importlib.util.cache_from_source(str(package / f"{module}.py"))).is_file()
    assert bytecode.compile_imports([entry], cwd=tmp_path) is None  # compiled: nothing runs
