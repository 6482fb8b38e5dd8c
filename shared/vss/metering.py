"""A model whose every call is charged as it returns: the one way handlers meter model use."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from vss.domain.usage import Meter
from vss.ports import LlmResult, StructuredLlm

M = TypeVar("M", bound=BaseModel)


class MeteredLlm:
    """A StructuredLlm that adds each call's usage to `meter` as soon as it returns, so the
    calls of an attempt that fails later are still charged to its task."""

    def __init__(self, llm: StructuredLlm, meter: Meter) -> None:
        self.llm = llm
        self.meter = meter
        self.name = llm.name
        self.model = llm.model

    def generate(self, *, system: str, prompt: str, schema: type[M]) -> LlmResult[M]:
        result = self.llm.generate(system=system, prompt=prompt, schema=schema)
        self.meter.add(result.usage)
        return result
