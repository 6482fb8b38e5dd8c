"""`make lint`'s dependency audit (scripts/audit_dependencies.py) fails on a known
vulnerability that is not excepted, reports what it could not look up, and fails on that
only when strict. pip-audit's own lookups are its business: its reports are given here."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.paths import ROOT
from tests.support.scripts import load_script


@pytest.fixture
def auditor() -> ModuleType:
    return load_script("audit_dependencies")


def _reporting(auditor: ModuleType, monkeypatch: pytest.MonkeyPatch,
               dependencies: list[dict[str, Any]]) -> list[tuple[Path, list[str]]]:
    asked: list[tuple[Path, list[str]]] = []

    def audit(lock: Path, ignored: list[str]) -> dict[str, Any]:
        asked.append((lock, ignored))
        return {"dependencies": dependencies if lock.name == "dev.lock" else []}

    monkeypatch.setattr(auditor, "audit", audit)
    return asked


def test_a_known_vulnerability_fails_the_lint(auditor, monkeypatch, capsys):
    asked = _reporting(auditor, monkeypatch, [
        {"name": "flask", "version": "3.0.0", "vulns": [
            {"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["3.0.3"]}]},
        {"name": "jinja2", "version": "3.1.6", "vulns": []}])
    assert auditor.main([]) == 1
    out = capsys.readouterr().out
    assert "flask==3.0.0: GHSA-xxxx-yyyy-zzzz (fixed in 3.0.3)" in out
    assert "2 releases audited, 1 known vulnerabilities" in out
    assert sorted(lock.name for lock, _ in asked) == [
        "build.lock", "checkov.lock", "dev.lock", "tasks-emulator.lock"]


def test_what_could_not_be_looked_up_is_said_and_fails_only_when_strict(auditor, monkeypatch,
                                                                        capsys):
    _reporting(auditor, monkeypatch, [{"name": "pip", "version": "26.3",
                                       "skip_reason": "Dependency not found on PyPI"}])
    assert auditor.main([]) == 0
    assert "1 could not be looked up" in capsys.readouterr().out
    assert auditor.main(["--strict"]) == 1


def test_the_exceptions_file_gives_ids_with_their_reasons(auditor, tmp_path, monkeypatch):
    exceptions = tmp_path / "audit-exceptions.txt"
    exceptions.write_text("# a comment\nGHSA-aaaa-bbbb-cccc  not reachable: we never parse X\n"
                          "PYSEC-2024-1 until 2027-01: fixed release breaks Y\n")
    monkeypatch.setattr(auditor, "EXCEPTIONS", exceptions)
    assert auditor.excepted() == ["GHSA-aaaa-bbbb-cccc", "PYSEC-2024-1"]
    monkeypatch.setattr(auditor, "EXCEPTIONS", ROOT / "requirements" / "audit-exceptions.txt")
    assert auditor.excepted() == []  # none today
