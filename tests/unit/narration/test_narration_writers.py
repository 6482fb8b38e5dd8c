"""The two narration writers `narrate` chooses between: what each promises beyond the text."""

from __future__ import annotations

import pytest

from tests.support.fakes import ScriptedLlm
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import NarrationServiceParams
from vss.domain.usage import Usage
from vss.errors import LlmError
from vss.handler_config import NarrationConfig
from vss.narration.compose import focus_lens, speech_rate
from vss.narration.writers import (
    OFFLINE,
    ModelNarrationWriter,
    NarrationWriter,
    OfflineNarrationWriter,
    writer_for,
)
from vss.ports import LlmResult


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


def _writer(dataset: Dataset, lang: str, llm: ScriptedLlm | None) -> NarrationWriter:
    params = NarrationServiceParams.model_validate({"lang": lang, "control_params": {}})
    return writer_for(llm, dataset, params, speech_rate(params, NarrationConfig()),
                      focus_lens(dataset, params), prompt_budget_tokens=24_000)


def _silent(system: str, prompt: str, schema: type) -> LlmResult:
    return LlmResult(None, "", Usage(llm_calls=1))


def test_without_a_model_the_offline_writer_writes_the_datasets_language(blueprint):
    writer = _writer(blueprint, "en", None)
    assert isinstance(writer, OfflineNarrationWriter)
    assert (writer.engine, writer.lang, writer.prompt_version) == (OFFLINE, "zh", None)
    assert writer.rewriter is None and writer.usage == Usage()
    assert writer.silence_error() is None


def test_the_model_writer_writes_the_requested_language_and_can_rewrite(blueprint):
    writer = _writer(blueprint, "en", ScriptedLlm(_silent))
    assert isinstance(writer, ModelNarrationWriter)
    assert (writer.engine, writer.lang) == ("scripted", "en")
    assert writer.prompt_version is not None and writer.rewriter is not None


def test_a_silent_model_is_to_blame_only_where_the_offline_writer_cannot_step_in(blueprint):
    error = _writer(blueprint, "en", ScriptedLlm(_silent)).silence_error()
    assert isinstance(error, LlmError) and error.details == {"model": "scripted-1"}
    assert _writer(blueprint, "zh", ScriptedLlm(_silent)).silence_error() is None
