"""GeminiWriter driving the real google-genai client against the loopback fake (no emulator)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from google.oauth2.credentials import Credentials
from pydantic import BaseModel

from tests.support.fake_gemini import FakeGemini
from vss.adapters.gemini import GeminiWriter
from vss.errors import LlmError, PermanentError, RateLimited, RetryableError

KEY = "AIza-test-secret-key-0123456789"
SYSTEM = "You write short documentary narration."


class Item(BaseModel):
    narration: str
    source_scene_ids: list[int]


class Snippets(BaseModel):
    items: list[Item]


SNIPPETS = {"items": [{"narration": "她推开门。", "source_scene_ids": [1, 2]}]}


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


def _writer(fake: FakeGemini, **kw: object) -> GeminiWriter:
    options: dict[str, object] = {
        "api_key": KEY,
        "base_url": fake.url,
        "attempts": 3,
        "initial_delay_s": 0.01,
        "max_delay_s": 0.02,
        "timeout_s": 5,
    }
    options.update(kw)
    return GeminiWriter(**options)  # type: ignore[arg-type]


def _generate(writer: GeminiWriter):
    return writer.generate(system=SYSTEM, prompt="Scenes: 1, 2", schema=Snippets)


def test_structured_output_is_parsed_into_the_schema(fake: FakeGemini):
    fake.reply_json(SNIPPETS, usage=(1200, 300))
    result = _generate(_writer(fake))
    assert result.parsed == Snippets.model_validate(SNIPPETS)
    assert json.loads(result.text) == SNIPPETS
    assert len(fake.requests) == 1


def test_request_carries_schema_mime_type_system_and_key_header(fake: FakeGemini):
    fake.reply_json(SNIPPETS)
    _generate(_writer(fake, temperature=0.3))
    request = fake.requests[0]
    assert request.path == "/v1/models/gemini-2.5-flash:generateContent"
    assert request.headers["x-goog-api-key"] == KEY
    body = request.body
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Scenes: 1, 2"}]}]
    assert body["systemInstruction"]["parts"] == [{"text": SYSTEM}]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["temperature"] == 0.3
    schema = config["responseSchema"]
    assert schema["type"] == "OBJECT" and schema["required"] == ["items"]
    item = schema["properties"]["items"]["items"]
    assert item["properties"]["source_scene_ids"] == {
        "type": "ARRAY",
        "items": {"type": "INTEGER"},
        "title": "Source Scene Ids",
    }


def test_usage_and_cost_count_thinking_tokens_as_output(fake: FakeGemini):
    fake.reply_json(SNIPPETS, usage=(1_000_000, 200_000), thoughts=100_000)
    usage = _generate(_writer(fake, price_per_million=(0.30, 2.50))).usage
    assert (usage.llm_input_tokens, usage.llm_output_tokens, usage.llm_calls) == \
        (1_000_000, 300_000, 1)
    assert usage.cost_usd == pytest.approx(0.30 + 0.3 * 2.50)


def test_malformed_text_gives_no_parse_but_keeps_the_text(fake: FakeGemini):
    fake.reply_text('{"items": [{"narration": "cut sh', usage=(50, 8))
    result = _generate(_writer(fake))
    assert result.parsed is None
    assert result.text == '{"items": [{"narration": "cut sh'
    assert result.usage.llm_input_tokens == 50


def test_json_of_the_wrong_shape_gives_no_parse(fake: FakeGemini):
    fake.reply_json({"items": [{"narration": 3}]})
    result = _generate(_writer(fake))
    assert result.parsed is None
    assert json.loads(result.text) == {"items": [{"narration": 3}]}


def test_rate_limit_is_retried_by_the_client_then_succeeds(fake: FakeGemini):
    fake.reply_status(429, "quota")
    fake.reply_status(429, "quota")
    fake.reply_json(SNIPPETS)
    result = _generate(_writer(fake, attempts=4))
    assert result.parsed is not None and result.usage.llm_calls == 1
    assert len(fake.requests) == 3


def test_persistent_rate_limit_raises_rate_limited(fake: FakeGemini):
    for _ in range(3):
        fake.reply_status(429, "Resource has been exhausted (e.g. check quota).")
    with pytest.raises(RateLimited) as info:
        _generate(_writer(fake, attempts=3))
    assert len(fake.requests) == 3
    assert info.value.details == {
        "status": 429,
        "model": "gemini-2.5-flash",
        "reason": "RESOURCE_EXHAUSTED",
    }


def test_persistent_server_error_is_retryable_not_permanent(fake: FakeGemini):
    fake.reply_status(503, "overloaded")
    fake.reply_status(500, "internal")
    with pytest.raises(RetryableError) as info:
        _generate(_writer(fake, attempts=2))
    assert not isinstance(info.value, RateLimited)
    assert info.value.details["status"] == 500
    assert len(fake.requests) == 2


def test_bad_request_is_permanent_and_never_echoes_the_key(fake: FakeGemini):
    fake.reply_status(400, f"API key not valid: {KEY}")
    with pytest.raises(LlmError) as info:
        _generate(_writer(fake))
    exc = info.value
    assert isinstance(exc, PermanentError) and exc.code == 3002
    assert exc.details == {"status": 400, "model": "gemini-2.5-flash", "reason": "INVALID_ARGUMENT"}
    assert KEY not in str(exc) and KEY not in json.dumps(exc.to_dict())
    assert len(fake.requests) == 1  # 4xx is not retried


@pytest.mark.parametrize("status", [401, 403, 404])
def test_auth_and_unknown_model_errors_are_permanent(fake: FakeGemini, status: int):
    fake.reply_status(status, "nope")
    with pytest.raises(LlmError) as info:
        _generate(_writer(fake))
    assert info.value.details["status"] == status
    assert len(fake.requests) == 1


def test_blocked_prompt_is_an_llm_error_with_the_reason(fake: FakeGemini):
    fake.reply_blocked("PROHIBITED_CONTENT")
    with pytest.raises(LlmError, match="PROHIBITED_CONTENT") as info:
        _generate(_writer(fake))
    assert info.value.details["block_reason"] == "PROHIBITED_CONTENT"


def test_safety_finish_reason_is_an_llm_error(fake: FakeGemini):
    fake.reply_text("", finish_reason="SAFETY")
    with pytest.raises(LlmError, match="SAFETY"):
        _generate(_writer(fake))


def test_no_candidates_is_an_llm_error(fake: FakeGemini):
    fake.reply_body({"usageMetadata": {"promptTokenCount": 3}})
    with pytest.raises(LlmError, match="no candidates"):
        _generate(_writer(fake))


def test_timeout_is_retryable(fake: FakeGemini):
    fake.reply_body({"candidates": []}, delay_s=2.0)
    fake.reply_body({"candidates": []}, delay_s=2.0)
    with pytest.raises(RetryableError, match="unreachable"):
        _generate(_writer(fake, attempts=2, timeout_s=0.3))
    assert len(fake.requests) == 2


def test_connection_refused_is_retryable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    writer = GeminiWriter(
        api_key=KEY,
        base_url=f"http://127.0.0.1:{port}",
        attempts=2,
        initial_delay_s=0.01,
        max_delay_s=0.02,
        timeout_s=2,
    )
    with pytest.raises(RetryableError) as info:
        _generate(writer)
    assert KEY not in str(info.value)


def test_dict_typed_schema_is_refused_as_llm_error(fake: FakeGemini):
    class Loose(BaseModel):
        extra: dict[str, int]

    with pytest.raises(LlmError, match="refused"):
        _writer(fake).generate(system=SYSTEM, prompt="x", schema=Loose)
    assert fake.requests == []


def test_unreadable_answer_is_retryable(fake: FakeGemini):
    fake.reply_raw(200, b"<html>captive portal</html>")
    with pytest.raises(RetryableError, match="unreadable"):
        _generate(_writer(fake))


def test_under_scripted_fake_fails_loudly(fake: FakeGemini):
    with pytest.raises(RetryableError, match="no scripted reply"):
        _generate(_writer(fake, attempts=1))


def test_vertex_mode_calls_the_publisher_model_path_with_a_bearer_token(fake: FakeGemini):
    fake.reply_json(SNIPPETS, usage=(10, 4))
    writer = GeminiWriter(
        vertex_project="proj-1",
        vertex_location="europe-west1",
        base_url=fake.url,
        credentials=Credentials(token="ya29.fake"),
        attempts=1,
    )
    result = _generate(writer)
    assert result.parsed == Snippets.model_validate(SNIPPETS)
    request = fake.requests[0]
    assert request.path == (
        "/v1beta1/projects/proj-1/locations/europe-west1/publishers/google"
        "/models/gemini-2.5-flash:generateContent"
    )
    assert request.headers["authorization"] == "Bearer ya29.fake"
    assert "x-goog-api-key" not in request.headers
    assert request.body["generationConfig"]["responseMimeType"] == "application/json"
