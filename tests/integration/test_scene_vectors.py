"""Scene vectors in the Firestore emulator, searched with its vector search: an equality
pre-filter on the deploy's scope, then COSINE distance. The emulator needs no vector index,
so what these prove is the adapter's documents and query; that production has the index the
query needs is checked against Terraform in tests/infra/test_firestore.py."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import pytest
from google.cloud import firestore

from tests.support.edge_api import FakeEdge, edge_request
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_vectors import bag_of_words
from tests.support.fakes import fake_deps
from tests.support.stack import stack_settings
from vss.adapters.firestore_vectors import (
    SCENE_VECTORS,
    WRITE_BATCH,
    FirestoreSceneVectors,
)
from vss.adapters.gemini_embeddings import GeminiEmbedder
from vss.domain.assets import VectorScope
from vss.domain.story_index import IndexReport
from vss.ports import SceneVector

pytestmark = pytest.mark.integration
EXPIRES = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def client() -> firestore.Client:
    return firestore.Client(project=stack_settings().project_id)


@pytest.fixture
def store(client: firestore.Client) -> FirestoreSceneVectors:
    return FirestoreSceneVectors(client)


def _scope(tenant: str | None = None, asset: str = "asset-1") -> VectorScope:
    """A scope of its own per call: tests share the emulator."""
    return VectorScope.of_deploy(tenant or f"t-{uuid.uuid4().hex[:8]}", asset,
                                 f"tasks/{uuid.uuid4().hex}/a1/story_index/documents.json",
                                 EXPIRES)


def _unit(*xs: float) -> list[float]:
    norm = math.sqrt(sum(x * x for x in xs))
    return [x / norm for x in xs]


VECTORS = {1: _unit(1, 0, 0), 2: _unit(1, 1, 0), 3: _unit(0, 0, 1), 4: _unit(-1, 0, 0)}


def _put(store: FirestoreSceneVectors, scope: VectorScope,
         vectors: dict[int, list[float]] = VECTORS) -> None:
    store.put(scope, [SceneVector(scene_id=s, episode=1, vector=v) for s, v in vectors.items()])


def test_the_nearest_scenes_come_first_with_their_cosine_distance(store: FirestoreSceneVectors):
    scope = _scope()
    _put(store, scope)
    found = store.nearest(scope.key, _unit(1, 0.1, 0), 3)
    assert [n.scene_id for n in found] == [1, 2, 3]
    query = _unit(1, 0.1, 0)
    for near in found:
        cosine = sum(a * b for a, b in zip(query, VECTORS[near.scene_id], strict=True))
        assert near.distance == pytest.approx(1 - cosine, abs=1e-6)
    assert [n.scene_id for n in store.nearest(scope.key, query, 50)] == [1, 2, 3, 4]


def test_a_search_sees_its_own_scope_only(store: FirestoreSceneVectors):
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    first, redeploy, other_tenant = _scope(tenant), _scope(tenant), _scope()
    _put(store, first)
    _put(store, redeploy, {7: VECTORS[1]})
    _put(store, other_tenant, {8: VECTORS[1]})
    assert [n.scene_id for n in store.nearest(first.key, VECTORS[1], 10)] == [1, 2, 3, 4]
    assert [n.scene_id for n in store.nearest(redeploy.key, VECTORS[1], 10)] == [7]
    assert store.nearest(f"no-such-{uuid.uuid4().hex}", VECTORS[1], 10) == []


def test_storing_again_rewrites_the_same_documents(client: firestore.Client,
                                                   store: FirestoreSceneVectors):
    scope = _scope()
    _put(store, scope)
    _put(store, scope)
    stored = list(client.collection(SCENE_VECTORS)
                  .where(filter=firestore.FieldFilter("scope", "==", scope.key)).stream())
    assert sorted(s.get("scene_id") for s in stored) == [1, 2, 3, 4]
    doc = stored[0].to_dict()
    assert doc is not None
    assert (doc["tenant_id"], doc["asset_id"]) == (scope.tenant_id, scope.asset_id)
    assert doc["expire_at"] == EXPIRES  # the TTL field, as the deploy's files expire


def test_more_vectors_than_one_write_batch_and_a_large_k(store: FirestoreSceneVectors):
    scope = _scope()
    count = WRITE_BATCH + 30
    _put(store, scope, {i: _unit(1, i / count, 0.5) for i in range(1, count + 1)})
    found = store.nearest(scope.key, _unit(1, 0, 0.5), 5000)  # Firestore's limit is 1000
    assert len(found) == count
    assert found[0].scene_id == 1
    assert [n.distance for n in found] == sorted(n.distance for n in found)


def test_vectors_of_768_floats_as_gemini_embeds_them(store: FirestoreSceneVectors):
    scope = _scope()
    vectors = {i: [math.sin(i * (j + 1)) for j in range(768)] for i in range(1, 6)}
    _put(store, scope, vectors)
    found = store.nearest(scope.key, vectors[3], 2)
    assert found[0].scene_id == 3 and found[0].distance == pytest.approx(0, abs=1e-9)


def test_the_edges_flow_on_an_embeddings_index(client: firestore.Client,
                                               blueprint_bytes: bytes):
    """A deploy and its search as the API runs them, the vectors in the emulator and the
    embeddings from the real Gemini client against the loopback fake (the rest on fakes)."""
    model = "gemini-embedding-001"
    with FakeGemini() as gemini:
        gemini.embed_with(lambda text: bag_of_words(text, 768))

        def embedder_for(name: str | None, dimensions: int | None) -> GeminiEmbedder:
            return GeminiEmbedder(model=name or model, dimensions=dimensions or 768,
                                  api_key="k", base_url=gemini.url, attempts=1)

        deps = fake_deps(embedder_for=embedder_for, embedding_model=model)
        deps.vectors = FirestoreSceneVectors(client)
        edge = FakeEdge.of(deps)
        dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
        asset = f"asset-{uuid.uuid4().hex[:8]}"
        deployed = edge.run(edge_request("deploy_rag_corpus", blueprint_input_path=dataset,
                                         facts_input_path=None, asset_id=asset))
        assert deployed["status"] == "COMPLETED", deployed.get("error")
        report = IndexReport.model_validate_json(
            edge.read(deployed["id"], deployed["result"]["output_file_path"]))
        assert (report.index_kind, report.embedded, report.dimensions) == ("embeddings", 63, 768)
        assert report.cost_usd > 0
        found = edge.client.get(f"/api/v1/assets/{asset}/search/", headers=edge.headers,
                                query_string={"q": "车小小 海晏集团职员", "k": 3}).get_json()
    assert found["index_kind"] == "embeddings"
    assert len(found["hits"]) == 3 and all("车小小" in h["text"] for h in found["hits"])
