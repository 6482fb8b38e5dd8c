"""The model factories the functions are wired with: Gemini when it is configured."""

from __future__ import annotations

from vss.config import Settings
from vss.ports import Embedder, EmbedderFactory, LlmFactory, StructuredLlm


def gemini_factory(settings: Settings) -> LlmFactory:
    """Gemini by model name when credentials are configured; else no model (the offline
    writers write)."""
    def llm_for(model: str | None) -> StructuredLlm | None:
        return gemini_from_settings(settings, model)

    return llm_for


def gemini_from_settings(settings: Settings, model: str | None = None) -> StructuredLlm | None:
    """The Gemini writer when credentials are configured, else None (the offline writer)."""
    if not _has_credentials(settings):
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


def embedder_factory(settings: Settings) -> EmbedderFactory:
    """Gemini embeddings by model name and length when credentials are configured (a deploy
    asks for the configured model, a search for the one its index was built with)."""
    def embedder_for(model: str | None, dimensions: int | None) -> Embedder | None:
        return gemini_embedder_from_settings(settings, model, dimensions)

    return embedder_for


def gemini_embedder_from_settings(settings: Settings, model: str | None = None,
                                  dimensions: int | None = None) -> Embedder | None:
    """The Gemini embedder of `model` (None: `VSS_EMBEDDING_MODEL`); None without a model or
    credentials. A model no longer priced (an old index's) is costed at 0."""
    model = model or settings.embedding_model
    if model is None or not _has_credentials(settings):
        return None
    from vss.adapters.gemini_embeddings import GeminiEmbedder

    return GeminiEmbedder(
        model=model, dimensions=dimensions or settings.embedding_dimensions,
        api_key=settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else None,
        vertex_project=settings.gemini_vertex_project, vertex_location=settings.gemini_location,
        base_url=settings.gemini_base_url,
        price_per_million=settings.embedding_prices.get(model, 0.0),
        attempts=settings.gemini_attempts,
    )


def _has_credentials(settings: Settings) -> bool:
    return settings.gemini_api_key is not None or settings.gemini_vertex_project is not None
