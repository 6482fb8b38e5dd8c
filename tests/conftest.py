from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.paths import BLUEPRINT


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def blueprint_bytes() -> bytes:
    return BLUEPRINT.read_bytes()
