"""Text embeddings with Gemini through `google-genai` (`models.embed_content`), in API-key or
Vertex AI mode: the `Embedder` port.

Texts go in batches of at most `BATCH_SIZE` (the Gemini API's `batchEmbedContents` takes 100
requests), each with its task type (RETRIEVAL_DOCUMENT for a scene, RETRIEVAL_QUERY for a
search) and `output_dimensionality` (gemini-embedding-001 answers 3072 floats unless told;
Firestore indexes at most 2048). Errors map as the writer's do (`vss.adapters._genai`); an
answer with another number of vectors than texts, or vectors of another length, is an
`LlmError`.

Cost: the Gemini API reports token counts for embeddings in `usageMetadata` when it reports
them at all, and Vertex AI per embedding (`statistics.token_count`). When neither is there the
tokens are estimated from the text (a token per 4 bytes of UTF-8: about 4 letters of English,
or 0.75 of a Chinese character) and the result says so (`Embeddings.estimated`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from google.genai import types

from vss.adapters._genai import Scrubber, connect, translated
from vss.domain.usage import Usage
from vss.errors import LlmError
from vss.ports import EmbeddingPurpose, Embeddings

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

__all__ = ["BATCH_SIZE", "GeminiEmbedder", "estimated_tokens"]

BATCH_SIZE = 100
_TASK_TYPES: dict[EmbeddingPurpose, str] = {
    "document": "RETRIEVAL_DOCUMENT",
    "query": "RETRIEVAL_QUERY",
}
_BYTES_PER_TOKEN = 4


class GeminiEmbedder:
    """Embeddings of one Gemini model at one length; one `genai.Client` per instance."""

    name = "gemini"

    def __init__(
        self,
        *,
        model: str = "gemini-embedding-001",
        dimensions: int = 768,
        api_key: str | None = None,
        vertex_project: str | None = None,
        vertex_location: str = "us-central1",
        base_url: str | None = None,
        price_per_million: float = 0.15,
        attempts: int = 4,
        timeout_s: float = 60,
        initial_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        batch_size: int = BATCH_SIZE,
        credentials: Credentials | None = None,
    ) -> None:
        """`price_per_million` is USD per 1M input tokens; the other options are the
        writer's (`GeminiWriter`)."""
        if not 1 <= batch_size <= BATCH_SIZE:
            raise ValueError(f"batch_size must be 1 to {BATCH_SIZE}")
        self.model = model
        self.dimensions = dimensions
        self.price_per_million = price_per_million
        self._batch_size = batch_size
        self._scrub = Scrubber(api_key)
        self._client = connect(
            api_key=api_key, vertex_project=vertex_project, vertex_location=vertex_location,
            base_url=base_url, attempts=attempts, timeout_s=timeout_s,
            initial_delay_s=initial_delay_s, max_delay_s=max_delay_s, credentials=credentials,
        )

    def embed(self, texts: Sequence[str], *, purpose: EmbeddingPurpose) -> Embeddings:
        vectors: list[list[float]] = []
        tokens = calls = 0
        estimated = False
        config = types.EmbedContentConfig(task_type=_TASK_TYPES[purpose],
                                          output_dimensionality=self.dimensions)
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start:start + self._batch_size])
            with translated(self.model, self._scrub):
                response = self._client.models.embed_content(
                    model=self.model, contents=batch, config=config)
            vectors += self._vectors(response, len(batch))
            calls += 1
            counted = _reported_tokens(response)
            if counted is None:
                counted, estimated = sum(estimated_tokens(t) for t in batch), True
            tokens += counted
        cost = tokens * self.price_per_million / 1_000_000
        usage = Usage(llm_input_tokens=tokens, llm_calls=calls, cost_usd=round(cost, 6))
        return Embeddings(vectors=vectors, usage=usage, estimated=estimated)

    def _vectors(self, response: types.EmbedContentResponse, expected: int
                 ) -> list[list[float]]:
        found = [list(e.values or []) for e in response.embeddings or []]
        if len(found) != expected:
            raise LlmError(f"Gemini returned {len(found)} embeddings for {expected} texts.",
                           details={"model": self.model})
        wrong = {len(v) for v in found if len(v) != self.dimensions}
        if wrong:
            raise LlmError(f"Gemini returned vectors of {sorted(wrong)} dimensions, not "
                           f"{self.dimensions}.", details={"model": self.model})
        return found


def _reported_tokens(response: types.EmbedContentResponse) -> int | None:
    meta = response.usage_metadata
    if meta is not None and meta.prompt_token_count is not None:
        return meta.prompt_token_count
    counts = [e.statistics.token_count if e.statistics else None
              for e in response.embeddings or []]
    if counts and all(c is not None for c in counts):
        return int(sum(c for c in counts if c is not None))
    return None


def estimated_tokens(text: str) -> int:
    """Tokens of `text` when the provider does not count them: one per 4 bytes of UTF-8."""
    return math.ceil(len(text.encode()) / _BYTES_PER_TOKEN)
