from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import BLUEPRINT, ROOT

# The local stack's logs (tests.support.stack.STATE_DIR), read after a failed run.
LOG_DIR = Path(os.environ.get("VSS_STATE_DIR") or ROOT / ".vss") / "logs"
STACK_LOG_LINES = 4
# A warning or an error in any component's log format (JSON, Python, Go, Java).
NOTEWORTHY = re.compile(r'"severity": "(?:WARNING|ERROR|CRITICAL)"|level=(?:WARN|ERROR)|'
                        r"\b(?:WARNING|ERROR|SEVERE|Traceback)\b")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that disturb the shared local stack for minutes (processes killed, Pub/Sub
    paused: the emulator then delays pushes to the subscriptions that failed) run last, so no
    other stack test inherits their aftermath. The order is otherwise unchanged."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """After a failed run, the stack's last warnings and errors per component, at the end of
    the output where a CI log's tail shows them: a stack test that timed out says little of
    what the workers were doing."""
    if not terminalreporter.stats.get("failed") or not LOG_DIR.is_dir():
        return
    terminalreporter.section("stack: last warnings and errors per component")
    for log in sorted(LOG_DIR.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        noted = [line for line in lines if NOTEWORTHY.search(line)]
        for line in noted[-STACK_LOG_LINES:]:
            terminalreporter.write_line(f"{log.stem}: {line[:200]}")


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def blueprint_bytes() -> bytes:
    return BLUEPRINT.read_bytes()
