"""Settings: prices per model decide which models a task may ask for."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vss.bootstrap.models import gemini_from_settings
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
