"""The embeddings kind of story index on fakes: what a document is embedded from, a deploy's
vectors under its scope, a query answered by the nearest scenes, and the one choice of what
answers a manifest's search."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.fake_vectors import FakeEmbedder, FakeSceneVectors, fake_embedder_for
from vss.deps import no_embedder
from vss.domain.assets import IndexManifest, VectorScope
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.story_index import SceneDocument
from vss.errors import LlmError
from vss.retrieval.documents import scene_documents
from vss.retrieval.embedded import (
    MAX_EMBEDDED_BYTES,
    embed_documents,
    embedded_text,
    nearest_scenes,
)
from vss.retrieval.index import StoryIndex
from vss.retrieval.kinds import search_index
from vss.retrieval.report import index_dataset

MODEL = "gemini-embedding-001"
EXPIRES = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


def _scope(documents_path: str = "tasks/t1/a1/story_index/documents.json") -> VectorScope:
    return VectorScope.of_deploy("tenant-1", "asset-1", documents_path, EXPIRES)


def _doc(scene_id: int, text: str) -> SceneDocument:
    return SceneDocument(scene_id=scene_id, episode=1, text=text, characters=[])


def test_a_long_document_is_embedded_from_its_start_in_whole_lines():
    line = "车小小: " + "我" * 400  # 1,210 bytes of UTF-8
    text = "\n".join([line] * 10)
    cut = embedded_text(_doc(1, text))
    assert len(cut.encode()) <= MAX_EMBEDDED_BYTES and cut.split("\n") == [line] * 4
    assert embedded_text(_doc(2, "短\n文")) == "短\n文"
    one_line = embedded_text(_doc(3, "我" * 5000))
    assert one_line == "我" * (MAX_EMBEDDED_BYTES // 3)


def test_scopes_differ_by_tenant_asset_and_deploy():
    scope = _scope()
    assert scope == _scope()
    assert scope.key != _scope("tasks/t1/a2/story_index/documents.json").key
    assert scope.key != VectorScope.of_deploy("tenant-2", "asset-1",
                                              "tasks/t1/a1/story_index/documents.json",
                                              EXPIRES).key


def test_every_document_with_text_is_stored_under_the_scope(blueprint: Dataset):
    documents = [*scene_documents(blueprint), _doc(999, "  ")]
    embedder, store = FakeEmbedder(), FakeSceneVectors()
    done = embed_documents(documents, embedder, store, _scope())
    assert done.embedded == len(documents) - 1 == 63
    assert {scene for _, scene in store.docs} == set(range(1, 64))
    assert store.scopes() == {_scope().key}
    assert done.usage.llm_calls == 1 and done.usage.cost_usd > 0
    (purpose, texts), = embedder.calls
    assert purpose == "document" and len(texts) == 63


def test_a_provider_returning_too_few_vectors_is_an_llm_error():
    class Short(FakeEmbedder):
        def embed(self, texts, *, purpose):  # type: ignore[no-untyped-def]
            result = super().embed(texts, purpose=purpose)
            return type(result)(result.vectors[:-1], result.usage)

    with pytest.raises(LlmError, match="1 vectors for 2 documents"):
        embed_documents([_doc(1, "a"), _doc(2, "b")], Short(), FakeSceneVectors(), _scope())


def test_the_nearest_scenes_come_best_first_and_a_blank_query_embeds_nothing():
    embedder, store = FakeEmbedder(), FakeSceneVectors()
    docs = [_doc(1, "the contract marriage"), _doc(2, "a birthday party"),
            _doc(3, "the contract is signed")]
    embed_documents(docs, embedder, store, _scope())
    hits = nearest_scenes("contract", 2, embedder, store, _scope().key)
    assert [h.scene_id for h in hits] in ([1, 3], [3, 1])
    assert all(0 < h.score <= 1 and h.matched == [] for h in hits)
    assert hits[0].score >= hits[1].score
    calls = len(embedder.calls)
    assert nearest_scenes(" ", 5, embedder, store, _scope().key) == []
    assert nearest_scenes("contract", 0, embedder, store, _scope().key) == []
    assert len(embedder.calls) == calls
    assert nearest_scenes("contract", 5, embedder, store, "another-scope") == []


def test_a_build_with_an_embedder_is_of_the_embeddings_kind(blueprint: Dataset):
    embedder, store = FakeEmbedder(), FakeSceneVectors()
    built = index_dataset(blueprint, embedder=embedder, vectors=store, scope=_scope())
    report = built.report
    assert (report.index_kind, report.embedding_model, report.dimensions, report.embedded) == (
        "embeddings", MODEL, 64, 63)
    assert report.cost_usd == built.usage.cost_usd > 0
    assert report.embedding_tokens == built.usage.llm_input_tokens
    manifest = built.manifest("asset-1", index_path="i", documents_path="d", facts_path=None)
    assert (manifest.index_kind, manifest.vector_scope, manifest.dimensions) == (
        "embeddings", _scope().key, 64)
    lexical = index_dataset(blueprint)
    assert lexical.artifact == built.artifact  # the BM25 artifact is the same either way
    assert (lexical.report.index_kind, lexical.report.cost_usd) == ("bm25", 0)
    assert lexical.report.embedding_model is None and lexical.usage.is_zero
    with pytest.raises(ValueError, match="vector store and a scope"):
        index_dataset(blueprint, embedder=embedder)


def test_an_embeddings_manifest_must_say_where_its_vectors_are():
    with pytest.raises(ValueError, match="model, dimensions and vector scope"):
        IndexManifest(asset_id="a", index_path="i", documents_path="d",
                      index_kind="embeddings", total_scene_count=1, embedding_model=MODEL)


def _manifests(blueprint: Dataset) -> tuple[IndexManifest, IndexManifest, StoryIndex,
                                             FakeSceneVectors]:
    store = FakeSceneVectors()
    built = index_dataset(blueprint, embedder=FakeEmbedder(), vectors=store, scope=_scope())
    embedded = built.manifest("a", index_path="i", documents_path="d", facts_path=None)
    lexical = index_dataset(blueprint).manifest("a", index_path="i", documents_path="d",
                                                facts_path=None)
    return embedded, lexical, built.index, store


def test_the_manifest_decides_what_answers_a_search(blueprint: Dataset):
    embedded, lexical, index, store = _manifests(blueprint)
    embedder = FakeEmbedder()
    loads: list[str] = []

    def load() -> StoryIndex:
        loads.append("bm25")
        return index

    by_vectors = search_index(embedded, "车小小 相亲", 5, lexical=load,
                              embedder_for=fake_embedder_for(embedder, None), vectors=store)
    assert by_vectors.kind == "embeddings" and by_vectors.fallback is None
    assert len(by_vectors.hits) == 5 and loads == []
    assert embedder.calls == [("query", ["车小小 相亲"])]
    assert store.searches == [(_scope().key, 5)]

    by_terms = search_index(lexical, "车小小 相亲", 5, lexical=load,
                            embedder_for=fake_embedder_for(embedder, MODEL), vectors=store)
    assert by_terms.kind == "bm25" and by_terms.hits and by_terms.hits[0].matched
    assert loads == ["bm25"] and len(embedder.calls) == 1


def test_an_embeddings_index_without_its_embedder_falls_back_to_bm25(blueprint: Dataset):
    embedded, _, index, store = _manifests(blueprint)
    other_model = FakeEmbedder(model="another-embedding-model")
    for embedder_for in (no_embedder, fake_embedder_for(other_model, other_model.model)):
        answer = search_index(embedded, "车小小 相亲", 5, lexical=lambda: index,
                              embedder_for=embedder_for, vectors=store)
        assert answer.kind == "bm25" and answer.hits
        assert answer.fallback is not None and MODEL in answer.fallback
    assert store.searches == [] and other_model.calls == []
