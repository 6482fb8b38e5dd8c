"""A dataset's story index in one call, with the report of its build and the manifest a
narration is pinned to. Here, and only here, a deploy chooses its kind: with an embedder the
documents are also embedded and stored, and the index's searches are answered by their
vectors (`vss.retrieval.embedded`); without one the BM25 index answers. The BM25 artifact is
built either way: it is small, and what a search falls back on when no embedder can be made
for an embeddings index (`vss.retrieval.kinds`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from vss.domain.assets import IndexManifest, VectorScope
from vss.domain.dataset import Dataset
from vss.domain.story_index import IndexReport, SceneDocument
from vss.domain.usage import NO_USAGE, Usage
from vss.narration.language import dataset_language
from vss.ports import Embedder, SceneVectorStore
from vss.retrieval.build import build_index
from vss.retrieval.documents import CharacterFactsLike, scene_documents
from vss.retrieval.embedded import EmbeddedStory, embed_documents
from vss.retrieval.index import StoryIndex

__all__ = ["IndexedStory", "index_dataset"]


@dataclass(frozen=True)
class IndexedStory:
    index: StoryIndex
    artifact: bytes  # `index.to_bytes()`, what the caller stores
    report: IndexReport
    documents: list[SceneDocument]
    embedded: EmbeddedStory | None = None

    @property
    def usage(self) -> Usage:
        """What the build spent (its embedding calls)."""
        return self.embedded.usage if self.embedded is not None else NO_USAGE

    def manifest(self, asset_id: str, *, index_path: str, documents_path: str,
                 facts_path: str | None) -> IndexManifest:
        """The manifest of this build, once its files are stored at these paths."""
        embedded = self.embedded
        return IndexManifest(
            asset_id=asset_id, index_path=index_path, documents_path=documents_path,
            facts_path=facts_path, index_kind=self.report.index_kind,
            total_scene_count=self.report.total_scene_count,
            embedding_model=embedded.model if embedded else None,
            dimensions=embedded.dimensions if embedded else None,
            vector_scope=embedded.scope.key if embedded else None)


def index_dataset(dataset: Dataset, facts: CharacterFactsLike | None = None,
                  lang: str | None = None, *, documents: Sequence[SceneDocument] | None = None,
                  embedder: Embedder | None = None, vectors: SceneVectorStore | None = None,
                  scope: VectorScope | None = None) -> IndexedStory:
    """Documents (`documents`, else made from `dataset` and `facts`), index and artifact of
    `dataset`, cut in `lang` (the dataset's own language when None), and what building them
    took. With `embedder`, the documents are embedded and stored in `vectors` under `scope`
    as well, and the index is of the embeddings kind."""
    started = time.perf_counter()
    docs = list(documents) if documents is not None else scene_documents(dataset, facts)
    index = build_index(docs, lang or dataset_language(dataset))
    artifact = index.to_bytes()
    embedded = None
    if embedder is not None:
        if vectors is None or scope is None:
            raise ValueError("an embeddings index needs a vector store and a scope")
        embedded = embed_documents(docs, embedder, vectors, scope)
    report = IndexReport(
        total_scene_count=len(dataset.scenes), documents=index.document_count,
        tokenizer=index.header.tokenizer.describe(),
        build_seconds=round(time.perf_counter() - started, 4), bytes=len(artifact))
    if embedded is not None:
        report = report.model_copy(update={
            "index_kind": "embeddings", "embedding_model": embedded.model,
            "dimensions": embedded.dimensions, "embedded": embedded.embedded,
            "embedding_tokens": embedded.usage.llm_input_tokens,
            "tokens_estimated": embedded.estimated, "cost_usd": embedded.usage.cost_usd})
    return IndexedStory(index, artifact, report, docs, embedded)
