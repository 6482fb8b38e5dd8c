"""The port a narration model implements, and what one call costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Usage:
    """Tokens and estimated cost of one or more model calls."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens,
            round(self.cost_usd + other.cost_usd, 6), self.calls + other.calls,
        )

    def as_dict(self) -> dict[str, float]:
        return {"llm_input_tokens": self.input_tokens, "llm_output_tokens": self.output_tokens,
                "llm_calls": self.calls, "cost_usd": self.cost_usd}


@dataclass(frozen=True)
class LlmResult(Generic[M]):
    """`parsed` is None when the model's text did not validate against the schema; `text` is
    kept so the caller can try a repair."""

    parsed: M | None
    text: str
    usage: Usage = field(default_factory=Usage)


class StructuredLlm(Protocol):
    """A model that answers a prompt with JSON matching a pydantic schema.

    Raises `RateLimited`/`RetryableError` when the provider stays unavailable after its own
    retries, `LlmError` for a refusal or a request the provider rejects.
    """

    name: str
    model: str

    def generate(self, *, system: str, prompt: str, schema: type[M]) -> LlmResult[M]: ...


class MeteredLlm:
    """A StructuredLlm that keeps the running total of what its calls cost, so a stage that
    fails after some calls can still charge them to the task."""

    def __init__(self, llm: StructuredLlm) -> None:
        self.llm = llm
        self.name = llm.name
        self.model = llm.model
        self.spent = Usage()

    def generate(self, *, system: str, prompt: str, schema: type[M]) -> LlmResult[M]:
        result = self.llm.generate(system=system, prompt=prompt, schema=schema)
        self.spent += result.usage
        return result

