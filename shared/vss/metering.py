"""Models whose every call is checked against the tenant's daily token quota before it is made
and charged as it returns: the one way handlers meter model use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import BaseModel

from vss.domain.language import estimate_tokens
from vss.domain.quotas import NO_DAILY_LIMITS, DailyAllowance
from vss.domain.usage import Meter
from vss.ports import Embedder, EmbeddingPurpose, Embeddings, LlmResult, StructuredLlm

M = TypeVar("M", bound=BaseModel)

# The tenant's daily quotas, read when first needed (most attempts call no model).
Allowance = Callable[[], DailyAllowance]


def no_daily_limits() -> DailyAllowance:
    return NO_DAILY_LIMITS


class MeteredLlm:
    """A StructuredLlm that adds each call's usage to `meter` as soon as it returns, so the
    calls of an attempt that fails later are still charged to its task. Before each call, the
    prompt's estimated tokens (`estimate_tokens`; the answer's cannot be known) must fit in
    the day's token quota with what the attempt spent so far: else `LlmTokensQuotaExceeded`,
    and the model is not called."""

    def __init__(self, llm: StructuredLlm, meter: Meter,
                 allowance: Allowance = no_daily_limits) -> None:
        self.llm = llm
        self.meter = meter
        self.allowance = allowance
        self.name = llm.name
        self.model = llm.model

    def generate(self, *, system: str, prompt: str, schema: type[M],
                 temperature: float | None = None) -> LlmResult[M]:
        self.allowance().check_llm_tokens(self.meter.total,
                                          estimate_tokens(system) + estimate_tokens(prompt))
        result = self.llm.generate(system=system, prompt=prompt, schema=schema,
                                   temperature=temperature)
        self.meter.add(result.usage)
        return result


class MeteredEmbedder:
    """An Embedder that adds each call's usage to `meter` as soon as it returns, checked
    against the day's token quota first as `MeteredLlm` is."""

    def __init__(self, embedder: Embedder, meter: Meter,
                 allowance: Allowance = no_daily_limits) -> None:
        self.embedder = embedder
        self.meter = meter
        self.allowance = allowance
        self.name = embedder.name
        self.model = embedder.model
        self.dimensions = embedder.dimensions

    def embed(self, texts: Sequence[str], *, purpose: EmbeddingPurpose) -> Embeddings:
        self.allowance().check_llm_tokens(self.meter.total,
                                          sum(estimate_tokens(text) for text in texts))
        result = self.embedder.embed(texts, purpose=purpose)
        self.meter.add(result.usage)
        return result
