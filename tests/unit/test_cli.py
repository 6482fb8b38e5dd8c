"""The `vss admin` commands as an operator runs them, over fakes; every error is one line on
stderr with exit code 2; the local stack's settings are found from any subdirectory."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.fakes import fake_deps
from vss.cli import main
from vss.config import find_local_env, load_local_env
from vss.deps import Deps
from vss.errors import Unauthenticated
from vss.service import auth


@pytest.fixture
def deps() -> Deps:
    return fake_deps()


def _run(capsys: pytest.CaptureFixture[str], deps: Deps, *argv: str) -> Any:
    assert main(list(argv), deps=deps) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def _fails(capsys: pytest.CaptureFixture[str], deps: Deps, *argv: str) -> str:
    """Run a failing command; its one stderr line."""
    try:
        code = main(list(argv), deps=deps)
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_admin_commands_manage_tenants_instances_and_keys(
    capsys: pytest.CaptureFixture[str], deps: Deps
):
    first = _run(capsys, deps, "admin", "create-tenant", "--name", "acme")
    other = _run(capsys, deps, "admin", "create-tenant", "--name", "globex")

    tenants = _run(capsys, deps, "admin", "list-tenants")
    assert {(t["id"], t["name"]) for t in tenants} == {
        (first["tenant_id"], "acme"), (other["tenant_id"], "globex")}

    second = _run(capsys, deps, "admin", "add-instance", "--tenant", first["tenant_id"])
    assert second["tenant_id"] == first["tenant_id"]
    assert second["instance_id"] != first["instance_id"]
    auth.authenticate(deps, second["instance_id"], second["api_key"])

    listed = _run(capsys, deps, "admin", "list-instances", "--tenant", first["tenant_id"])
    assert {i["id"] for i in listed} == {first["instance_id"], second["instance_id"]}
    assert all("key_hash" not in i for i in listed)
    assert first["api_key"] not in json.dumps(listed)
    everyone = _run(capsys, deps, "admin", "list-instances")
    assert len(everyone) == 3

    rotated = _run(capsys, deps, "admin", "rotate-key", first["instance_id"])
    assert rotated["instance_id"] == first["instance_id"]
    assert rotated["api_key"] != first["api_key"]
    auth.authenticate(deps, first["instance_id"], rotated["api_key"])
    with pytest.raises(Unauthenticated):
        auth.authenticate(deps, first["instance_id"], first["api_key"])

    revoked = _run(capsys, deps, "admin", "revoke-key", second["instance_id"])
    assert revoked == {"instance_id": second["instance_id"], "active": False}
    with pytest.raises(Unauthenticated):
        auth.authenticate(deps, second["instance_id"], second["api_key"])


@pytest.mark.parametrize("action", ["rotate-key", "revoke-key"])
def test_an_id_with_a_slash_is_one_usage_line(
    capsys: pytest.CaptureFixture[str], deps: Deps, action: str
):
    line = _fails(capsys, deps, "admin", action, "a/b")
    assert line.startswith(f"vss admin {action}: error: argument instance_id: 'a/b' is not")


def test_unknown_ids_are_one_line(capsys: pytest.CaptureFixture[str], deps: Deps):
    assert _fails(capsys, deps, "admin", "rotate-key", "i_nope") == (
        "vss: Instance i_nope does not exist.")
    assert _fails(capsys, deps, "admin", "revoke-key", "i_nope") == (
        "vss: Instance i_nope does not exist.")
    assert _fails(capsys, deps, "admin", "add-instance", "--tenant", "t_nope") == (
        "vss: Tenant t_nope does not exist.")
    assert deps.tenants.list_instances() == []


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], deps: Deps):
    assert "required" in _fails(capsys, deps, "admin")
    assert "invalid choice" in _fails(capsys, deps, "admin", "drop-everything")
    assert "--name" in _fails(capsys, deps, "admin", "create-tenant")


def test_an_unexpected_error_is_one_line(
    capsys: pytest.CaptureFixture[str], deps: Deps, monkeypatch: pytest.MonkeyPatch
):
    def broken() -> list[Any]:
        raise ValueError("A document must have\nan even number of path elements")

    monkeypatch.setattr(deps.tenants, "list_tenants", broken)
    assert _fails(capsys, deps, "admin", "list-tenants") == (
        "vss: ValueError: A document must have an even number of path elements")


# -- finding .vss/local.env -----------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("VSS_STATE_DIR", raising=False)
    root = tmp_path / "checkout"
    (root / ".vss").mkdir(parents=True)
    (root / ".vss" / "local.env").write_text("VSS_API_URL=http://127.0.0.1:9\n# a comment\n")
    (root / "shared" / "vss").mkdir(parents=True)
    return root


def test_local_env_is_found_from_a_subdirectory(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("VSS_API_URL", raising=False)
    monkeypatch.chdir(repo / "shared" / "vss")

    assert find_local_env() == repo / ".vss" / "local.env"
    assert load_local_env() == {"VSS_API_URL": "http://127.0.0.1:9"}
    assert os.environ["VSS_API_URL"] == "http://127.0.0.1:9"


def test_local_env_does_not_override_the_environment(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VSS_API_URL", "https://api.example")
    monkeypatch.chdir(repo)

    load_local_env()

    assert os.environ["VSS_API_URL"] == "https://api.example"


def test_no_local_env_outside_a_checkout(repo: Path):
    assert find_local_env(repo.parent) is None
    assert load_local_env(repo.parent / "absent.env") == {}


def test_state_dir_names_the_local_env(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    other = tmp_path / "second-stack"
    other.mkdir()
    (other / "local.env").write_text("VSS_API_URL=http://127.0.0.1:8590\n")
    monkeypatch.setenv("VSS_STATE_DIR", str(other))

    assert find_local_env(repo / "shared") == other / "local.env"


def test_console_token_opens_the_console_for_its_minutes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import timedelta

    from vss.console.tokens import check_token

    console = fake_deps(console_secret="console-secret")
    assert main(["admin", "console-token", "--minutes", "5"], deps=console) == 0
    token = capsys.readouterr().out.strip()
    assert check_token("console-secret", token, console.clock()) == console.clock() + timedelta(
        minutes=5)
    with pytest.raises(Unauthenticated):
        check_token("console-secret", token, console.clock() + timedelta(minutes=5))
    assert "VSS_CONSOLE_SECRET" in _fails(capsys, fake_deps(), "admin", "console-token")
