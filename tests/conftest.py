from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.paths import BLUEPRINT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that disturb the shared local stack for minutes (processes killed, Pub/Sub
    paused: the emulator then delays pushes to the subscriptions that failed) run last, so no
    other stack test inherits their aftermath. The order is otherwise unchanged."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def blueprint_bytes() -> bytes:
    return BLUEPRINT.read_bytes()
