"""GeminiEmbedder driving the real google-genai client against the loopback fake (no
emulator): the requests it sends, its batches, its vectors and cost, and its errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.oauth2.credentials import Credentials

from tests.support.fake_gemini import FakeGemini
from tests.support.fake_vectors import bag_of_words
from vss.adapters.gemini_embeddings import BATCH_SIZE, GeminiEmbedder, estimated_tokens
from vss.errors import LlmError, RateLimited, RetryableError

KEY = "AIza-test-secret-key-0123456789"
MODEL = "gemini-embedding-001"


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


def _embedder(fake: FakeGemini, **kw: object) -> GeminiEmbedder:
    options: dict[str, object] = {
        "model": MODEL, "dimensions": 8, "api_key": KEY, "base_url": fake.url,
        "attempts": 3, "initial_delay_s": 0.01, "max_delay_s": 0.02, "timeout_s": 5,
    }
    options.update(kw)
    return GeminiEmbedder(**options)  # type: ignore[arg-type]


def test_documents_are_sent_in_batches_with_their_task_type_and_length(fake: FakeGemini):
    fake.embed_with(lambda text: bag_of_words(text, 8))
    texts = [f"scene {i}: 车小小 meets 楚昊轩" for i in range(BATCH_SIZE + 5)]
    result = _embedder(fake).embed(texts, purpose="document")
    assert result.vectors == [bag_of_words(t, 8) for t in texts]
    assert [len(r.texts) for r in fake.requests] == [BATCH_SIZE, 5]
    first = fake.requests[0]
    assert first.path.endswith(f"models/{MODEL}:batchEmbedContents")
    assert first.headers["x-goog-api-key"] == KEY
    request = first.body["requests"][0]
    assert (request["taskType"], request["outputDimensionality"]) == ("RETRIEVAL_DOCUMENT", 8)
    assert request["model"] == f"models/{MODEL}"
    tokens = sum(len(t) for t in texts)  # what the fake reports
    assert (result.usage.llm_input_tokens, result.usage.llm_calls) == (tokens, 2)
    assert result.usage.cost_usd == pytest.approx(tokens * 0.15 / 1e6, abs=1e-6)
    assert not result.estimated


def test_a_query_is_embedded_as_one(fake: FakeGemini):
    fake.embed_with(lambda text: bag_of_words(text, 8))
    result = _embedder(fake).embed(["车小小 相亲"], purpose="query")
    assert len(result.vectors) == 1
    assert fake.requests[0].body["requests"][0]["taskType"] == "RETRIEVAL_QUERY"


def test_without_a_token_count_the_tokens_are_estimated_and_said_to_be(fake: FakeGemini):
    fake.embed_with(lambda text: bag_of_words(text, 8), count_tokens=False)
    texts = ["车小小", "a contract marriage"]
    result = _embedder(fake, price_per_million=1.0).embed(texts, purpose="document")
    assert result.estimated
    assert result.usage.llm_input_tokens == sum(estimated_tokens(t) for t in texts) == 3 + 5


def test_vectors_of_another_length_or_number_are_an_llm_error(fake: FakeGemini):
    fake.reply_embeddings([[0.1] * 3072])
    with pytest.raises(LlmError, match="3072"):
        _embedder(fake).embed(["a"], purpose="document")
    fake.reply_embeddings([[0.1] * 8])
    with pytest.raises(LlmError, match="1 embeddings for 2 texts"):
        _embedder(fake).embed(["a", "b"], purpose="document")


def test_rate_limits_are_retried_then_raised_as_rate_limited(fake: FakeGemini):
    fake.reply_status(429, "quota")
    fake.reply_embeddings([[0.5] * 8], prompt_tokens=4)
    result = _embedder(fake).embed(["a"], purpose="query")
    assert result.vectors == [[0.5] * 8] and result.usage.llm_input_tokens == 4
    for _ in range(3):
        fake.reply_status(429, "quota")
    with pytest.raises(RateLimited):
        _embedder(fake).embed(["a"], purpose="query")


def test_server_errors_are_retryable_and_bad_requests_permanent_without_the_key(
        fake: FakeGemini):
    for _ in range(3):
        fake.reply_status(503, "overloaded")
    with pytest.raises(RetryableError):
        _embedder(fake).embed(["a"], purpose="document")
    fake.reply_status(400, f"API key not valid: {KEY}")
    with pytest.raises(LlmError) as caught:
        _embedder(fake).embed(["a"], purpose="document")
    assert KEY not in str(caught.value) and KEY not in str(caught.value.details)


def test_nothing_to_embed_calls_nothing(fake: FakeGemini):
    result = _embedder(fake).embed([], purpose="document")
    assert result.vectors == [] and result.usage.llm_calls == 0 and fake.requests == []


def test_vertex_mode_embeds_one_text_or_a_batch_on_the_publisher_model_path(fake: FakeGemini):
    fake.embed_with(lambda text: bag_of_words(text, 8))
    embedder = _embedder(fake, api_key=None, vertex_project="p", vertex_location="l",
                         credentials=Credentials(token="ya29.fake"))
    one = embedder.embed(["车小小"], purpose="query")
    two = embedder.embed(["车小小", "楚昊轩"], purpose="document")
    assert len(one.vectors) == 1 and len(two.vectors) == 2
    paths = [r.path for r in fake.requests]
    assert paths[0].endswith(f"projects/p/locations/l/publishers/google/models/{MODEL}"
                             ":embedContent")
    assert paths[1].endswith(":batchEmbedContents")
    assert fake.requests[0].headers["authorization"] == "Bearer ya29.fake"
    assert one.usage.llm_input_tokens == 3 and two.usage.llm_input_tokens == 6
