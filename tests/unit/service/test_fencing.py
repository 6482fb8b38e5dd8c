"""The overlapping-attempt scenarios (`tests/support/fencing.py`) on fakes; after each, the
usage ledger holds exactly what the tasks were charged (a stale attempt's spend included)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fakes import fake_deps
from tests.support.fencing import *  # noqa: F403  (every scenario, collected here)
from tests.support.tasks import assert_ledger_holds_what_tasks_were_charged
from vss.deps import Deps
from vss.domain.tasks import Task


@pytest.fixture
def deps() -> Iterator[Deps]:
    deps = fake_deps()
    yield deps
    assert_ledger_holds_what_tasks_were_charged(deps)


@pytest.fixture
def planned(planned: tuple[Deps, Task]) -> Iterator[tuple[Deps, Task]]:
    yield planned
    assert_ledger_holds_what_tasks_were_charged(planned[0])
