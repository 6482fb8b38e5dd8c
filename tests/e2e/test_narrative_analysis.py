"""The seed's analysis flow over HTTP against the whole local stack, with the edge's own
requests: character facts, the asset's story index (its report as the edge downloads it),
a search, and a narration of the asset that retrieves from the index."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.support.edge_api import edge_request
from vss.edge.client import EdgeClient

pytestmark = pytest.mark.integration


def _send(edge: EdgeClient, body: dict[str, Any]) -> dict[str, Any]:
    done = edge.wait(edge.create_task(body["task_type"], body["payload"])["id"], timeout=240)
    assert done["status"] == "COMPLETED", done["error"]
    return done


def test_the_edges_analysis_flow_over_http(edge: EdgeClient, dataset_path: str):
    asset = f"asset-{uuid.uuid4().hex[:12]}"
    identified = _send(edge, edge_request("character_identifier", input_file_path=dataset_path))
    facts = json.loads(edge.download_result(identified["id"]))
    assert set(facts["identified_facts_by_character"]) == {"车小小", "宋安娜"}

    deployed = _send(edge, edge_request(
        "deploy_rag_corpus", blueprint_input_path=dataset_path,
        facts_input_path=identified["result"]["output_file_path"], asset_id=asset))
    report = json.loads(edge.download_result(deployed["id"]))  # what the edge reads
    assert report["total_scene_count"] == deployed["result"]["total_scene_count"] == 63

    found = edge.session.get(f"{edge.base}/assets/{asset}/search/",
                             params={"q": "宋安娜 和风集团继承人", "k": 3})
    assert found.status_code == 200, found.text
    assert [h["scene_id"] for h in found.json()["hits"]] and \
        all("宋安娜" in h["text"] for h in found.json()["hits"])

    narration = edge_request("generate_narration", blueprint_path=dataset_path, asset_id=asset)
    narrated = _send(edge, narration)
    retrieval = narrated["result"]["retrieval"]
    assert retrieval["index"] == deployed["result"]["index_path"]
    assert len(retrieval["scene_ids"]) == 50  # the edge's rag_top_k
