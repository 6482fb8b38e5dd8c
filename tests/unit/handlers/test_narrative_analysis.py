"""The seed's analysis flow over the API on fakes, with the edge's own requests: character
facts, the asset's story index, a narration that retrieves from it; the index's search, list
and delete routes; tenants kept apart; a redeploy while a narration reads."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.support.edge_api import FakeEdge, edge_request
from tests.support.fakes import FakeClock, fake_deps
from tests.support.synthetic import story
from vss.domain.character_facts import CharacterFactsReport
from vss.domain.fact_vocabulary import FACT_VOCABULARIES
from vss.domain.paths import owner_id
from vss.domain.story_index import IndexReport
from vss.service import uploads

ASSET = "7d4b3a1e-5c2f-4e8a-9b6d-1f0e2c3a4b5c"


@pytest.fixture
def edge() -> FakeEdge:
    return FakeEdge.of(fake_deps())


def _facts(edge: FakeEdge, dataset: str) -> dict[str, Any]:
    done = edge.run(edge_request("character_identifier", input_file_path=dataset))
    assert done["status"] == "COMPLETED", done.get("error")
    return done


def _deploy(edge: FakeEdge, dataset: str, facts: str | None, asset: str = ASSET
            ) -> dict[str, Any]:
    done = edge.run(edge_request("deploy_rag_corpus", blueprint_input_path=dataset,
                                 facts_input_path=facts, asset_id=asset))
    assert done["status"] == "COMPLETED", done.get("error")
    return done


def _search(edge: FakeEdge, query: str, asset: str = ASSET, k: int = 5) -> Any:
    return edge.client.get(f"/api/v1/assets/{asset}/search/", headers=edge.headers,
                           query_string={"q": query, "k": k})


def test_the_edges_analysis_flow_end_to_end(edge: FakeEdge, blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    identified = _facts(edge, dataset)
    facts_path = identified["result"]["output_file_path"]
    report = CharacterFactsReport.model_validate_json(edge.read(identified["id"], facts_path))
    assert set(report.identified_facts_by_character) == {"车小小", "宋安娜"}
    jobs = [(f.attribute, f.value, f.source)
            for f in report.identified_facts_by_character["车小小"]]
    assert ("职业", "海晏集团职员", "offline") in jobs  # from the caption card, offline
    assert report.metrics_calculation_results and \
        report.metrics_calculation_results["车小小"].scenes > 0
    assert identified["result"]["facts"] == sum(
        len(f) for f in report.identified_facts_by_character.values())

    deployed = _deploy(edge, dataset, facts_path)
    built = IndexReport.model_validate_json(
        edge.read(deployed["id"], deployed["result"]["output_file_path"]))
    assert built.total_scene_count == deployed["result"]["total_scene_count"] == 63
    listed = edge.client.get("/api/v1/assets/", headers=edge.headers).get_json()["results"]
    assert [(a["asset_id"], a["task_id"]) for a in listed] == [(ASSET, deployed["id"])]
    assert IndexReport.model_validate(listed[0]["report"]) == built  # the build, as listed

    found = _search(edge, "车小小 海晏集团职员")
    assert found.status_code == 200
    hits = found.get_json()["hits"]
    assert hits and all("车小小" in h["text"] for h in hits[:3])
    assert hits == sorted(hits, key=lambda h: -h["score"])

    narrated = edge.run(edge_request("generate_narration", blueprint_path=dataset))
    assert narrated["status"] == "COMPLETED", narrated.get("error")
    retrieval = narrated["result"]["retrieval"]
    assert retrieval["index"] == deployed["result"]["index_path"]
    assert 0 < len(retrieval["scene_ids"]) <= 50 and retrieval["query"]
    assert set(retrieval["facts_about"]) <= {"车小小", "宋安娜"} and retrieval["facts_about"]


def test_a_narration_without_an_index_narrates_as_before(edge: FakeEdge,
                                                         blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    narrated = edge.run(edge_request("generate_narration", blueprint_path=dataset))
    assert narrated["status"] == "COMPLETED" and narrated["result"].get("retrieval") is None


def test_an_unknown_character_is_a_400_listing_the_datasets(edge: FakeEdge,
                                                            blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    body = edge_request("character_identifier", input_file_path=dataset)
    body["payload"]["service_params"]["characters_to_analyze"] = ["车小小", "路人甲乙"]
    answer = edge.create(body)
    assert answer.status_code == 400
    error = answer.get_json()
    assert error["details"]["errors"][0]["pointer"] == \
        "/payload/service_params/characters_to_analyze/1"
    assert "车小小" in error["details"]["characters"]


def test_another_tenant_can_neither_read_nor_replace_an_index(blueprint_bytes: bytes):
    deps = fake_deps()
    mine, theirs = FakeEdge.of(deps), FakeEdge.of(deps)
    dataset = mine.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    deployed = _deploy(mine, dataset, None)
    assert _search(theirs, "车小小").status_code == 404
    assert theirs.client.delete(f"/api/v1/assets/{ASSET}/",
                                headers=theirs.headers).status_code == 404
    other = theirs.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    _deploy(theirs, other, None)  # the same asset id, their own index
    listed = mine.client.get("/api/v1/assets/", headers=mine.headers).get_json()["results"]
    assert [a["task_id"] for a in listed] == [deployed["id"]]
    # Their facts path names none of my files: a 404 at creation, nothing stored.
    mine_facts = _facts(mine, dataset)["result"]["output_file_path"]
    refused = theirs.create(edge_request("deploy_rag_corpus", blueprint_input_path=other,
                                         facts_input_path=mine_facts, asset_id=ASSET))
    assert refused.status_code == 404


def test_a_redeploy_before_a_narration_runs_leaves_it_on_its_index(edge: FakeEdge,
                                                                    blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    first = _deploy(edge, dataset, None)
    facts = _facts(edge, dataset)["result"]["output_file_path"]
    assert isinstance(edge.deps.clock, FakeClock)
    edge.deps.clock.advance(1)  # the redeploy is asked for later: it replaces the first
    redeploy = edge.create(edge_request("deploy_rag_corpus", blueprint_input_path=dataset,
                                        facts_input_path=facts, asset_id=ASSET))
    waiting = edge.create(edge_request("generate_narration", blueprint_path=dataset))
    edge.run_stages()  # the redeploy completes first, then the narration runs
    second = edge.task(redeploy.get_json()["id"])
    assert second["result"]["index_path"] != first["result"]["index_path"]
    narrated = edge.task(waiting.get_json()["id"])
    assert narrated["result"]["retrieval"]["index"] == first["result"]["index_path"]
    later = edge.run(edge_request("generate_narration", blueprint_path=dataset))
    assert later["result"]["retrieval"]["index"] == second["result"]["index_path"]


def test_a_deleted_index_is_gone_for_search_and_later_narrations(edge: FakeEdge,
                                                                 blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    _deploy(edge, dataset, None)
    assert edge.client.delete(f"/api/v1/assets/{ASSET}/", headers=edge.headers
                              ).status_code == 204
    assert _search(edge, "车小小").status_code == 404
    narrated = edge.run(edge_request("generate_narration", blueprint_path=dataset))
    assert narrated["status"] == "COMPLETED" and narrated["result"].get("retrieval") is None


@pytest.mark.parametrize(("query", "pointer"), [
    ({"q": ""}, "/query/q"), ({"q": " "}, "/query/q"), ({"q": "x" * 1001}, "/query/q"),
    ({"q": "车小小", "k": "0"}, "/query/k"), ({"q": "车小小", "k": "201"}, "/query/k"),
    ({"q": "车小小", "k": "two"}, "/query/k")])
def test_a_bad_search_is_a_400_pointing_at_it(edge: FakeEdge, blueprint_bytes: bytes,
                                              query: dict[str, str], pointer: str):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    _deploy(edge, dataset, None)
    answer = edge.client.get(f"/api/v1/assets/{ASSET}/search/", headers=edge.headers,
                             query_string=query)
    assert answer.status_code == 400
    assert answer.get_json()["details"]["errors"][0]["pointer"] == pointer


def test_the_edges_requests_parse_as_their_payloads():
    for name in ("character_identifier", "deploy_rag_corpus"):
        body = edge_request(name)
        assert json.dumps(body)


@pytest.mark.parametrize(("lines", "labels"), [
    ([("Mara", "I'm a junior clerk at Haiyan Group."), ("Tom", "Nice to meet you all today.")],
     "en"),
    ([("Mara", "Je suis l'héritière du groupe Hefeng."), ("Tom", "Moi, c'est Mara.")], "fr"),
])
def test_without_a_language_the_facts_are_labelled_in_the_datasets(edge: FakeEdge, lines,
                                                                   labels):
    dataset = edge.upload("story.json", json.dumps(story({"lines": lines})).encode())
    body = edge_request("character_identifier", input_file_path=dataset)
    body["payload"]["service_params"] = {"characters_to_analyze": ["Mara"]}
    done = edge.run(body)
    assert done["status"] == "COMPLETED", done.get("error")
    report = CharacterFactsReport.model_validate_json(
        edge.read(done["id"], done["result"]["output_file_path"]))
    vocabulary = FACT_VOCABULARIES[labels]
    found = report.identified_facts_by_character["Mara"]
    assert found and all(f.attribute in vocabulary.attributes.values()
                         and f.type in vocabulary.types.values() for f in found)


def test_an_unknown_character_in_a_task_waiting_on_its_upload_fails_listing_the_cast(
        edge: FakeEdge, blueprint_bytes: bytes):
    """Created before its dataset's upload is checked, the task cannot be refused with a
    400: it waits, and fails with the same pointer and cast once the dataset lands."""
    uploaded = edge.client.post("/api/v1/files/upload/", headers=edge.headers, data={
        "file": (io.BytesIO(blueprint_bytes), "blueprint_contract_girlfriend.json")})
    dataset = uploaded.get_json()["relative_path"]
    body = edge_request("character_identifier", input_file_path=dataset)
    body["payload"]["service_params"]["characters_to_analyze"] = ["车小小", "无名氏"]
    created = edge.create(body)
    assert created.status_code == 202 and created.get_json()["status"] == "PENDING"

    record = edge.deps.files.get(owner_id(dataset))
    assert record is not None and record.generation is not None
    uploads.check_landed_object(edge.deps, edge.deps.settings.uploads_bucket,
                                f"tenants/{edge.tenant}/{dataset}", record.generation)
    edge.run_stages()
    failed = edge.task(created.get_json()["id"])
    assert failed["status"] == "FAILED"
    error = failed["error"]
    assert "无名氏" in error["message"]
    assert [e["pointer"] for e in error["details"]["errors"]] == [
        "/payload/service_params/characters_to_analyze/1"]
    assert "宋安娜" in error["details"]["characters"]
