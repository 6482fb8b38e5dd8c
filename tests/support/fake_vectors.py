"""Fakes of the embeddings ports: an embedder whose vectors follow the words of a text, and a
scene vector store that searches as Firestore's vector search does (an equality pre-filter on
the scope, then COSINE distance). Both record what they were asked."""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from vss.domain.assets import VectorScope
from vss.domain.usage import Usage
from vss.errors import LlmError
from vss.ports import (
    Embedder,
    EmbedderFactory,
    EmbeddingPurpose,
    Embeddings,
    Nearest,
    SceneVector,
)

# A CJK character, or a run of letters and digits of another script.
_PIECE = re.compile(r"[\u4e00-\u9fff]|[^\W_\u4e00-\u9fff]+")


def _slot(piece: str, dimensions: int) -> int:
    return int.from_bytes(hashlib.sha256(piece.encode()).digest()[:4], "big") % dimensions


def bag_of_words(text: str, dimensions: int) -> list[float]:
    """A unit vector counting `text`'s words (Chinese: its characters and their pairs) in
    hashed slots, so texts that share words point the same way; zeros for a text of none."""
    pieces = [p.lower() for p in _PIECE.findall(text)]
    pieces += [a + b for a, b in itertools.pairwise(pieces) if len(a) == len(b) == 1]
    vector = [0.0] * dimensions
    for piece in pieces:
        vector[_slot(piece, dimensions)] += 1.0
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm else vector


@dataclass
class FakeEmbedder:
    """Embeds with `bag_of_words`; a call's usage is a token per character at `price` USD
    per 1M tokens. `fail_with`: raised by the next call (then cleared)."""

    model: str = "gemini-embedding-001"
    dimensions: int = 64
    price: float = 0.15
    name: str = "fake-embedder"
    calls: list[tuple[EmbeddingPurpose, list[str]]] = field(default_factory=list)
    fail_with: Exception | None = None

    def embed(self, texts: Sequence[str], *, purpose: EmbeddingPurpose) -> Embeddings:
        self.calls.append((purpose, list(texts)))
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        tokens = sum(len(t) for t in texts)
        return Embeddings(
            vectors=[bag_of_words(t, self.dimensions) for t in texts],
            usage=Usage(llm_input_tokens=tokens, llm_calls=1,
                        cost_usd=round(tokens * self.price / 1_000_000, 6)),
            estimated=False)


def fake_embedder_for(embedder: FakeEmbedder | None, configured: str | None) -> EmbedderFactory:
    """The factory of a process where `embedder` is the one embedding model there is, and
    `configured` the model deploys embed with (None: lexical deploys)."""
    def embedder_for(model: str | None, dimensions: int | None) -> Embedder | None:
        wanted = model or configured
        if embedder is None or wanted != embedder.model:
            return None
        if dimensions not in (None, embedder.dimensions):
            raise LlmError(f"{embedder.model} was asked for {dimensions} dimensions")
        return embedder

    return embedder_for


@dataclass
class StoredVector:
    scope: VectorScope
    vector: SceneVector


class FakeSceneVectors:
    """Records by (scope key, scene), as the Firestore adapter keys its documents."""

    def __init__(self) -> None:
        self.docs: dict[tuple[str, int], StoredVector] = {}
        self.searches: list[tuple[str, int]] = []  # (scope, k)

    def put(self, scope: VectorScope, vectors: Sequence[SceneVector]) -> None:
        for item in vectors:
            self.docs[(scope.key, item.scene_id)] = StoredVector(scope, item)

    def nearest(self, scope: str, query: Sequence[float], k: int) -> list[Nearest]:
        self.searches.append((scope, k))
        found = [Nearest(scene_id=s.vector.scene_id,
                         distance=_cosine_distance(query, s.vector.vector))
                 for (key, _), s in self.docs.items() if key == scope]
        found = [n for n in found if not math.isnan(n.distance)]
        return sorted(found, key=lambda n: n.distance)[:min(k, 1000)]

    def scopes(self) -> set[str]:
        return {key for key, _ in self.docs}


def _cosine_distance(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):  # Firestore leaves out vectors of another length
        return math.nan
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / norms if norms else math.nan
