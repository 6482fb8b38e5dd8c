"""Settings: prices per model decide which models a task may ask for; an embedding model, when
set, makes story indexes of the embeddings kind."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vss.bootstrap.models import gemini_embedder_from_settings, gemini_from_settings
from vss.config import Settings


def test_each_model_is_priced_at_its_own_rate():
    settings = Settings(gemini_api_key="k")
    flash = gemini_from_settings(settings)
    pro = gemini_from_settings(settings, "gemini-2.5-pro")
    assert flash is not None and pro is not None
    assert flash.price_per_million == (0.30, 2.50)  # type: ignore[attr-defined]
    assert pro.price_per_million == (1.25, 10.00)  # type: ignore[attr-defined]


def test_prices_come_from_json_and_must_cover_the_default_model(monkeypatch):
    monkeypatch.setenv("VSS_GEMINI_PRICES", '{"my-model": [1, 2]}')
    monkeypatch.setenv("VSS_GEMINI_MODEL", "my-model")
    assert Settings().gemini_prices == {"my-model": (1.0, 2.0)}
    monkeypatch.setenv("VSS_GEMINI_MODEL", "gemini-2.5-flash")
    with pytest.raises(ValidationError, match="no entry in VSS_GEMINI_PRICES"):
        Settings()


def test_without_credentials_there_is_no_model():
    assert gemini_from_settings(Settings(gemini_api_key=None)) is None


@pytest.mark.parametrize("name", ["VSS_GEMINI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"])
def test_any_of_the_usual_key_variables_selects_gemini(monkeypatch, name):
    for other in ("VSS_GEMINI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, "k")
    assert gemini_from_settings(Settings()) is not None


@pytest.mark.parametrize("ttl", [0, 901, 3600])
def test_signed_urls_cannot_outlive_fifteen_minutes(ttl: int):
    with pytest.raises(ValidationError, match="signed_url_ttl_seconds"):
        Settings(signed_url_ttl_seconds=ttl)
    assert Settings(signed_url_ttl_seconds=900).signed_url_ttl_seconds == 900


def test_story_indexes_are_lexical_unless_an_embedding_model_is_set(monkeypatch):
    assert Settings().embedding_model is None
    assert gemini_embedder_from_settings(Settings(gemini_api_key="k")) is None
    monkeypatch.setenv("VSS_EMBEDDING_MODEL", "")  # what Terraform sets when there is none
    assert Settings().embedding_model is None


def test_the_embedder_has_the_configured_model_length_and_price():
    settings = Settings(gemini_api_key="k", embedding_model="gemini-embedding-001")
    embedder = gemini_embedder_from_settings(settings)
    assert embedder is not None
    assert (embedder.model, embedder.dimensions) == ("gemini-embedding-001", 768)
    assert embedder.price_per_million == 0.15  # type: ignore[attr-defined]
    # A search embeds its query with the model and length its index was built with.
    older = gemini_embedder_from_settings(settings, "gemini-embedding-001", 1536)
    assert older is not None and older.dimensions == 1536
    assert gemini_embedder_from_settings(
        Settings(embedding_model="gemini-embedding-001", gemini_api_key=None)) is None


def test_an_embedding_model_must_be_priced_and_vectors_fit_firestore():
    with pytest.raises(ValidationError, match="no entry in VSS_EMBEDDING_PRICES"):
        Settings(embedding_model="text-embedding-004")
    with pytest.raises(ValidationError, match="embedding_dimensions"):
        Settings(embedding_dimensions=3072)  # the model's full size: Firestore takes 2048


def test_the_console_secret_is_masked_like_the_other_secrets():
    settings = Settings(gemini_api_key="g-key", console_secret="console-signing-secret")
    assert {"g-key", "console-signing-secret"} <= set(settings.secret_values())
    assert "console-signing-secret" not in repr(settings)
