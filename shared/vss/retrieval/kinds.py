"""Which kind of index answers a search of a deployed story index: the one place that reads a
manifest's kind, for the narrations (`vss.handlers.narration`) and the API's search
(`vss.service.assets`) alike.

An embeddings index is searched by its vectors, the query embedded with the model and length
its documents were embedded with, in its own deploy's scope only. When no embedder can be
made for that model (the credentials are gone, or the process has none) the deploy's BM25
artifact answers instead, and the answer says so. A lexical index is searched as it always
was. Loads nothing it does not use: the BM25 artifact is read through `lexical`, on demand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vss.domain.assets import IndexManifest
from vss.domain.story_index import Hit, IndexKind
from vss.ports import EmbedderFactory, SceneVectorStore
from vss.retrieval.embedded import nearest_scenes
from vss.retrieval.index import StoryIndex

__all__ = ["Answer", "search_index"]


@dataclass(frozen=True)
class Answer:
    hits: list[Hit]
    kind: IndexKind  # what answered
    fallback: str | None = None  # why the manifest's own kind did not


def search_index(manifest: IndexManifest, query: str, k: int, *,
                 lexical: Callable[[], StoryIndex], embedder_for: EmbedderFactory,
                 vectors: SceneVectorStore) -> Answer:
    """The `k` scenes of the deploy `manifest` describes that best match `query`."""
    if manifest.index_kind == "embeddings":
        assert manifest.vector_scope is not None  # the manifest's own validation
        embedder = embedder_for(manifest.embedding_model, manifest.dimensions)
        if embedder is not None:
            return Answer(nearest_scenes(query, k, embedder, vectors, manifest.vector_scope),
                          "embeddings")
        return Answer(lexical().search(query, k), "bm25",
                      fallback=f"no embedder for {manifest.embedding_model} here: the "
                      "deploy's BM25 index answered")
    return Answer(lexical().search(query, k), "bm25")
