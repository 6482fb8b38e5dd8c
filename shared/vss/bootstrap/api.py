"""The API's composition root: the ports, and the embedding models a search of an embeddings
story index embeds its query with."""

from __future__ import annotations

from dataclasses import replace

from vss.bootstrap import cloud_ports
from vss.bootstrap.models import embedder_factory
from vss.config import Settings
from vss.deps import Deps
from vss.ports import EmbedderFactory


def for_api(settings: Settings, base: Deps | None = None, *,
            embedder_for: EmbedderFactory | None = None) -> Deps:
    """The ports (`base`, else the real adapters) and the embedding models' factory (from the
    settings unless given)."""
    deps = base or cloud_ports(settings)
    return replace(deps, embedder_for=embedder_for or embedder_factory(settings))
