"""Models whose every call is charged as it returns: the one way handlers meter model use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

from vss.domain.usage import Meter
from vss.ports import Embedder, EmbeddingPurpose, Embeddings, LlmResult, StructuredLlm

M = TypeVar("M", bound=BaseModel)


class MeteredLlm:
    """A StructuredLlm that adds each call's usage to `meter` as soon as it returns, so the
    calls of an attempt that fails later are still charged to its task."""

    def __init__(self, llm: StructuredLlm, meter: Meter) -> None:
        self.llm = llm
        self.meter = meter
        self.name = llm.name
        self.model = llm.model

    def generate(self, *, system: str, prompt: str, schema: type[M],
                 temperature: float | None = None) -> LlmResult[M]:
        result = self.llm.generate(system=system, prompt=prompt, schema=schema,
                                   temperature=temperature)
        self.meter.add(result.usage)
        return result


class MeteredEmbedder:
    """An Embedder that adds each call's usage to `meter` as soon as it returns."""

    def __init__(self, embedder: Embedder, meter: Meter) -> None:
        self.embedder = embedder
        self.meter = meter
        self.name = embedder.name
        self.model = embedder.model
        self.dimensions = embedder.dimensions

    def embed(self, texts: Sequence[str], *, purpose: EmbeddingPurpose) -> Embeddings:
        result = self.embedder.embed(texts, purpose=purpose)
        self.meter.add(result.usage)
        return result
