"""The model factory the workers are wired with: Gemini when it is configured."""

from __future__ import annotations

from vss.config import Settings
from vss.ports import LlmFactory, StructuredLlm


def gemini_factory(settings: Settings) -> LlmFactory:
    """Gemini by model name when credentials are configured; else no model (the offline
    writers write)."""
    def llm_for(model: str | None) -> StructuredLlm | None:
        return gemini_from_settings(settings, model)

    return llm_for


def gemini_from_settings(settings: Settings, model: str | None = None) -> StructuredLlm | None:
    """The Gemini writer when credentials are configured, else None (the offline writer)."""
    if settings.gemini_api_key is None and settings.gemini_vertex_project is None:
        return None
    from vss.adapters.gemini import GeminiWriter

    model = model or settings.gemini_model
    return GeminiWriter(
        model=model,
        api_key=settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None,
        vertex_project=settings.gemini_vertex_project, vertex_location=settings.gemini_location,
        base_url=settings.gemini_base_url,
        price_per_million=settings.gemini_prices[model],
        attempts=settings.gemini_attempts,
    )
