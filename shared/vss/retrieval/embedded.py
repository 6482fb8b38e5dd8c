"""The embeddings kind of story index: each scene document embedded and stored under its
deploy's scope, a query embedded and answered by the scenes nearest to it.

The model and the store are ports (`Embedder`, `SceneVectorStore`): production embeds with
Gemini and searches with Firestore's vector search, tests use fakes. A document is embedded
from its start, up to `MAX_EMBEDDED_BYTES` of UTF-8 cut at a line (an embedding model reads
about 2,000 tokens: the summary, dynamics and first lines come first in a document).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from vss.domain.assets import VectorScope
from vss.domain.story_index import Hit, SceneDocument
from vss.domain.usage import Usage
from vss.errors import LlmError
from vss.ports import Embedder, SceneVector, SceneVectorStore

__all__ = ["MAX_EMBEDDED_BYTES", "EmbeddedStory", "embed_documents", "embedded_text",
           "nearest_scenes"]

MAX_EMBEDDED_BYTES = 6000


@dataclass(frozen=True)
class EmbeddedStory:
    """What embedding a deploy's documents did."""

    model: str
    dimensions: int
    scope: VectorScope
    embedded: int  # documents embedded and stored
    usage: Usage
    estimated: bool  # the tokens were estimated (the provider did not count them)
    seconds: float


def embedded_text(document: SceneDocument) -> str:
    """The start of `document` the model is given: whole lines, at most MAX_EMBEDDED_BYTES
    (a first line longer than that is cut at a character)."""
    text = document.text.strip()
    if len(text.encode()) <= MAX_EMBEDDED_BYTES:
        return text
    kept: list[str] = []
    size = 0
    for line in text.split("\n"):
        size += len(line.encode()) + (1 if kept else 0)
        if size > MAX_EMBEDDED_BYTES:
            break
        kept.append(line)
    if kept:
        return "\n".join(kept)
    return text.encode()[:MAX_EMBEDDED_BYTES].decode(errors="ignore")


def embed_documents(documents: Sequence[SceneDocument], embedder: Embedder,
                    store: SceneVectorStore, scope: VectorScope) -> EmbeddedStory:
    """Embed every document that has text and store the vectors under `scope`."""
    started = time.perf_counter()
    kept = [doc for doc in documents if doc.text.strip()]
    result = embedder.embed([embedded_text(doc) for doc in kept], purpose="document")
    if len(result.vectors) != len(kept):
        raise LlmError(f"{embedder.name} returned {len(result.vectors)} vectors for "
                       f"{len(kept)} documents.", details={"model": embedder.model})
    store.put(scope, [SceneVector(scene_id=doc.scene_id, episode=doc.episode, vector=vector)
                      for doc, vector in zip(kept, result.vectors, strict=True)])
    return EmbeddedStory(
        model=embedder.model, dimensions=embedder.dimensions, scope=scope, embedded=len(kept),
        usage=result.usage, estimated=result.estimated,
        seconds=round(time.perf_counter() - started, 4))


def nearest_scenes(query: str, k: int, embedder: Embedder, store: SceneVectorStore,
                   scope: str) -> list[Hit]:
    """The `k` scenes of `scope` nearest to `query`, best first, scored by cosine similarity
    (1 - distance); none for a blank query (nothing to embed)."""
    if k <= 0 or not query.strip():
        return []
    (vector,) = embedder.embed([query.strip()], purpose="query").vectors
    return [Hit(scene_id=found.scene_id, score=round(1.0 - found.distance, 6))
            for found in store.nearest(scope, vector, k)]
