"""A model that keeps count of what it spent."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from vss.ports import LlmResult, StructuredLlm, Usage

M = TypeVar("M", bound=BaseModel)


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
