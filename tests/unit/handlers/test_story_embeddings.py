"""Story indexes of the embeddings kind, on fakes, through the API as the edge uses it: a deploy
embeds its scenes and stores them under its own scope, its report and its task say what it
cost, searches and narrations embed their query and search that scope only, a redeploy never
mixes, and without an embedding model (the default) nothing of it happens."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.edge_api import FakeEdge, edge_request
from tests.support.fake_vectors import FakeEmbedder, FakeSceneVectors, fake_embedder_for
from tests.support.fakes import FakeClock, SwitchableFactory, fake_deps
from vss.deps import no_embedder
from vss.domain.assets import IndexManifest
from vss.domain.messages import StageMessage
from vss.domain.story_index import IndexReport
from vss.domain.tasks import Stage
from vss.errors import RateLimited
from vss.service import stages

ASSET = "7d4b3a1e-5c2f-4e8a-9b6d-1f0e2c3a4b5c"
MODEL = "gemini-embedding-001"


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder(model=MODEL)


@pytest.fixture
def edge(embedder: FakeEmbedder) -> FakeEdge:
    return FakeEdge.of(fake_deps(embedder=embedder, embedding_model=MODEL))


def _vectors(edge: FakeEdge) -> FakeSceneVectors:
    assert isinstance(edge.deps.vectors, FakeSceneVectors)
    return edge.deps.vectors


def _deploy(edge: FakeEdge, dataset: str, asset: str = ASSET) -> dict[str, Any]:
    done = edge.run(_deploy_request(dataset, asset))
    assert done["status"] == "COMPLETED", done.get("error")
    return done


def _deploy_request(dataset: str, asset: str = ASSET) -> dict[str, Any]:
    return edge_request("deploy_rag_corpus", blueprint_input_path=dataset,
                        facts_input_path=None, asset_id=asset)


def _manifest(edge: FakeEdge, deployed: dict[str, Any]) -> IndexManifest:
    return IndexManifest.model_validate_json(
        edge.read(deployed["id"], deployed["result"]["index_path"]))


def _search(edge: FakeEdge, query: str, k: int = 5) -> dict[str, Any]:
    answer = edge.client.get(f"/api/v1/assets/{ASSET}/search/", headers=edge.headers,
                             query_string={"q": query, "k": k})
    assert answer.status_code == 200, answer.get_json()
    body: dict[str, Any] = answer.get_json()
    return body


def test_a_deploy_embeds_its_scenes_under_its_own_scope(edge: FakeEdge, embedder: FakeEmbedder,
                                                        blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    deployed = _deploy(edge, dataset)
    report = IndexReport.model_validate_json(
        edge.read(deployed["id"], deployed["result"]["output_file_path"]))
    assert (report.index_kind, report.embedding_model, report.dimensions) == (
        "embeddings", MODEL, embedder.dimensions)
    assert report.embedded == report.total_scene_count == 63
    assert report.embedding_tokens and report.tokens_estimated is False
    assert report.cost_usd == pytest.approx(report.embedding_tokens * 0.15 / 1e6, abs=1e-6)
    assert report.cost_usd > 0 and report.build_seconds > 0
    assert [purpose for purpose, _ in embedder.calls] == ["document"]

    manifest = _manifest(edge, deployed)
    assert (manifest.index_kind, manifest.embedding_model, manifest.dimensions) == (
        "embeddings", MODEL, embedder.dimensions)
    stored = _vectors(edge).docs
    assert _vectors(edge).scopes() == {manifest.vector_scope}
    assert {scene for _, scene in stored} == set(range(1, 64))
    scope = next(iter(stored.values())).scope
    assert (scope.tenant_id, scope.asset_id) == (edge.tenant, ASSET)
    assert scope.expire_at is not None and scope.expire_at > edge.deps.clock()
    # The deploy's embedding calls are charged to its task, as model calls are.
    usage = edge.task(deployed["id"])["usage"]
    assert usage["cost_usd"] == pytest.approx(report.cost_usd)
    assert usage["llm_input_tokens"] == report.embedding_tokens
    listed = edge.client.get("/api/v1/assets/", headers=edge.headers).get_json()["results"]
    assert [a["index_kind"] for a in listed] == ["embeddings"]
    assert listed[0]["report"]["embedding_model"] == report.embedding_model
    assert listed[0]["report"]["cost_usd"] == pytest.approx(report.cost_usd)


def test_the_search_embeds_the_query_and_finds_the_scenes_that_say_it(
        edge: FakeEdge, embedder: FakeEmbedder, blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    _deploy(edge, dataset)
    found = _search(edge, "车小小 海晏集团职员", k=3)
    assert found["index_kind"] == "embeddings" and found["fallback"] is None
    assert embedder.calls[-1] == ("query", ["车小小 海晏集团职员"])
    hits = found["hits"]
    assert len(hits) == 3 and all("车小小" in h["text"] for h in hits)
    assert hits == sorted(hits, key=lambda h: -h["score"])
    assert all(-1 <= h["score"] <= 1 and h["matched"] == [] for h in hits)


def test_a_narration_retrieves_by_embeddings_and_pays_for_its_query(
        edge: FakeEdge, embedder: FakeEmbedder, blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    deployed = _deploy(edge, dataset)
    narrated = edge.run(edge_request("generate_narration", blueprint_path=dataset))
    assert narrated["status"] == "COMPLETED", narrated.get("error")
    retrieval = narrated["result"]["retrieval"]
    assert retrieval["index"] == deployed["result"]["index_path"]
    assert retrieval["index_kind"] == "embeddings" and retrieval.get("fallback") is None
    assert 0 < len(retrieval["scene_ids"]) <= 50
    purpose, texts = embedder.calls[-1]
    assert (purpose, texts) == ("query", [retrieval["query"]])
    assert _vectors(edge).searches[-1][0] == _manifest(edge, deployed).vector_scope
    assert narrated["usage"]["llm_input_tokens"] == len(retrieval["query"])  # the fake's count


def test_a_redeploy_has_a_scope_of_its_own_and_a_pinned_narration_keeps_the_old_one(
        edge: FakeEdge, blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    first = _manifest(edge, _deploy(edge, dataset))
    assert isinstance(edge.deps.clock, FakeClock)
    edge.deps.clock.advance(1)
    redeploy = edge.create(_deploy_request(dataset))
    waiting = edge.create(edge_request("generate_narration", blueprint_path=dataset))
    edge.run_stages()  # the redeploy completes first, then the narration runs
    second = _manifest(edge, edge.task(redeploy.get_json()["id"]))
    assert second.vector_scope != first.vector_scope
    assert _vectors(edge).scopes() == {first.vector_scope, second.vector_scope}
    narrated = edge.task(waiting.get_json()["id"])
    assert narrated["result"]["retrieval"]["index_kind"] == "embeddings"
    searched = [scope for scope, _ in _vectors(edge).searches]
    assert searched == [first.vector_scope]  # pinned at creation, before the redeploy ended
    _search(edge, "车小小")
    assert _vectors(edge).searches[-1][0] == second.vector_scope  # the asset's index now


def test_tenants_deploying_the_same_asset_never_share_vectors(embedder: FakeEmbedder,
                                                              blueprint_bytes: bytes):
    deps = fake_deps(embedder=embedder, embedding_model=MODEL)
    mine, theirs = FakeEdge.of(deps), FakeEdge.of(deps)
    my_scope = _manifest(mine, _deploy(
        mine, mine.upload("blueprint_contract_girlfriend.json", blueprint_bytes))).vector_scope
    their_scope = _manifest(theirs, _deploy(theirs, theirs.upload(
        "blueprint_contract_girlfriend.json", blueprint_bytes))).vector_scope
    assert my_scope != their_scope
    _search(mine, "车小小")
    assert _vectors(mine).searches[-1][0] == my_scope


def test_without_an_embedder_here_the_deploys_bm25_artifact_answers_and_says_so(
        embedder: FakeEmbedder, blueprint_bytes: bytes):
    models = SwitchableFactory(fake_embedder_for(embedder, MODEL))
    edge = FakeEdge.of(fake_deps(embedder_for=models, embedding_model=MODEL))
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    _deploy(edge, dataset)
    models.factory = no_embedder  # e.g. the API lost its key
    found = _search(edge, "车小小 海晏集团职员")
    assert found["index_kind"] == "bm25" and MODEL in found["fallback"]
    assert found["hits"] and found["hits"][0]["matched"]
    assert _vectors(edge).searches == []


def test_a_rate_limited_embedding_fails_the_attempt_retryably(edge: FakeEdge,
                                                               embedder: FakeEmbedder,
                                                               blueprint_bytes: bytes):
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    embedder.fail_with = RateLimited("quota")
    created = edge.create(_deploy_request(dataset))
    edge.run_stages()  # RateLimited: the message is nacked
    task_id = created.get_json()["id"]
    assert edge.task(task_id)["status"] == "RUNNING" and _vectors(edge).docs == {}
    stages.run_stage(edge.deps, StageMessage(task_id=task_id, stage=Stage.STORY_INDEX))
    deployed = edge.task(task_id)
    assert deployed["status"] == "COMPLETED"
    assert len([c for c in embedder.calls if c[0] == "document"]) == 2
    assert _vectors(edge).scopes() == {_manifest(edge, deployed).vector_scope}


def test_by_default_indexes_are_lexical_and_nothing_is_embedded(embedder: FakeEmbedder,
                                                                blueprint_bytes: bytes):
    edge = FakeEdge.of(fake_deps(embedder=embedder))  # VSS_EMBEDDING_MODEL unset
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    deployed = _deploy(edge, dataset)
    report = IndexReport.model_validate_json(
        edge.read(deployed["id"], deployed["result"]["output_file_path"]))
    assert (report.index_kind, report.embedding_model, report.cost_usd) == ("bm25", None, 0)
    manifest = _manifest(edge, deployed)
    assert (manifest.index_kind, manifest.vector_scope) == ("bm25", None)
    assert _search(edge, "车小小")["index_kind"] == "bm25"
    narrated = edge.run(edge_request("generate_narration", blueprint_path=dataset))
    assert narrated["result"]["retrieval"]["index_kind"] == "bm25"
    assert embedder.calls == [] and _vectors(edge).docs == {}


def test_a_lexical_index_stays_lexical_when_a_model_is_configured_later(
        embedder: FakeEmbedder, blueprint_bytes: bytes):
    models = SwitchableFactory(fake_embedder_for(embedder, None))  # VSS_EMBEDDING_MODEL unset
    edge = FakeEdge.of(fake_deps(embedder_for=models))
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    _deploy(edge, dataset)
    models.factory = fake_embedder_for(embedder, MODEL)
    assert _search(edge, "车小小")["index_kind"] == "bm25"
    assert embedder.calls == []
