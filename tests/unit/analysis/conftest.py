from __future__ import annotations

import pytest

from tests.support.paths import DATA
from vss.domain.dataset import Dataset, parse_dataset


@pytest.fixture(scope="session")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


@pytest.fixture(scope="session")
def small() -> Dataset:
    return parse_dataset((DATA / "narrative_dataset_small.json").read_bytes())
