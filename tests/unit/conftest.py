"""Unit tests run the pure core and the service layer on fakes: no subprocess, no server."""

from __future__ import annotations

import socket
import subprocess
from typing import Any

import pytest


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a unit test tried to {what}: use a fake from tests/support")

    return refuse


@pytest.fixture(autouse=True)
def _no_processes_or_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a subprocess"))
    monkeypatch.setattr(socket.socket, "bind", _refuse("start a server"))
    monkeypatch.setattr(socket.socket, "connect", _refuse("open a connection"))
