"""The overlapping-attempt scenarios (`tests/support/fencing.py`) on fakes."""

from __future__ import annotations

import pytest

from tests.support.fakes import fake_deps
from tests.support.fencing import *  # noqa: F403  (every scenario, collected here)
from vss.deps import Deps


@pytest.fixture
def deps() -> Deps:
    return fake_deps()
