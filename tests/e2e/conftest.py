from __future__ import annotations

import pytest

from tests.support.paths import BLUEPRINT
from tests.support.stack import new_tenant
from vss.edge.client import EdgeClient


@pytest.fixture(scope="module")
def edge() -> EdgeClient:
    """A fresh tenant per test module, created with the `vss admin` CLI."""
    return new_tenant()[0]


@pytest.fixture(scope="module")
def dataset_path(edge: EdgeClient) -> str:
    return edge.upload(BLUEPRINT)["relative_path"]
