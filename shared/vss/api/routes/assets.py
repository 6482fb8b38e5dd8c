"""Assets: the caller's story indexes (deployed by DEPLOY_RAG_CORPUS), listed, searched and
deleted; another tenant's asset does not exist for the caller."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, request

from vss.api.context import caller
from vss.api.views import (
    API_PREFIX,
    DEFAULT_K,
    MAX_QUERY_CHARS,
    QUERY_PATTERN,
    AssetPage,
    AssetView,
    SearchHit,
    SearchResults,
)
from vss.app_deps import app_deps
from vss.domain.payloads import ASSET_ID_PATTERN, MAX_RAG_TOP_K
from vss.errors import BadRequest, NotFound
from vss.retrieval.documents import passage
from vss.service import assets

SNIPPET_CHARS = 300  # of a found scene's passage
blueprint = Blueprint("assets", __name__, url_prefix=f"{API_PREFIX}/assets")


@blueprint.get("/")
def list_assets() -> dict[str, Any]:
    found = assets.list_assets(app_deps(), caller())
    return AssetPage(results=[AssetView.of(a) for a in found]).model_dump(mode="json")


@blueprint.get("/<asset_id>/search/")
def search(asset_id: str) -> dict[str, Any]:
    """The `k` scenes of the asset's index that best match `q`, best first."""
    tenant_id = caller()
    asset_id = _asset_id(asset_id)
    query = request.args.get("q", "")
    if not re.search(QUERY_PATTERN, query) or len(query) > MAX_QUERY_CHARS:
        raise BadRequest("q must be 1 to 1000 characters.", details={"errors": [
            {"pointer": "/query/q", "reason": f"1 to {MAX_QUERY_CHARS} characters"}]})
    k = _k(request.args.get("k", str(DEFAULT_K)))
    found = assets.search(app_deps(), tenant_id, asset_id, query, k)
    hits = [SearchHit(scene_id=f.hit.scene_id, score=round(f.hit.score, 4),
                      matched=f.hit.matched, text=passage(f.text, f.hit.matched, SNIPPET_CHARS))
            for f in found.scenes]
    return SearchResults(asset_id=asset_id, query=query, k=k, hits=hits,
                         index_kind=found.index_kind, fallback=found.fallback,
                         ).model_dump(mode="json")


@blueprint.delete("/<asset_id>/")
def delete_asset(asset_id: str) -> tuple[str, int]:
    assets.delete_asset(app_deps(), caller(), _asset_id(asset_id))
    return "", 204


def _asset_id(raw: str) -> str:
    """An id that cannot name an asset names none of the caller's: a 404 like any other."""
    if not re.fullmatch(ASSET_ID_PATTERN, raw):
        raise NotFound(f"Asset {raw[:128]} has no story index.")
    return raw


def _k(raw: str) -> int:
    error = {"pointer": "/query/k", "reason": f"an integer from 1 to {MAX_RAG_TOP_K}"}
    if not re.fullmatch(r"-?[0-9]+", raw) or not 1 <= int(raw) <= MAX_RAG_TOP_K:
        raise BadRequest("k out of range.", details={"errors": [error]})
    return int(raw)
