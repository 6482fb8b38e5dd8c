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


@pytest.fixture(scope="module")
def narration_path(edge: EdgeClient, dataset_path: str) -> str:
    """A short narration of the real blueprint (a handful of segments to dub)."""
    task = edge.create_task("GENERATE_NARRATION", {
        "blueprint_path": dataset_path,
        "service_params": {"control_params": {"target_duration_minutes": 1}}})
    done = edge.wait(task["id"], timeout=120)
    assert done["status"] == "COMPLETED", done["error"]
    return str(done["result"]["output_file_path"])
