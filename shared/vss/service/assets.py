"""Assets' story indexes: registered when a deploy completes, resolved for narrations, listed,
searched and deleted by their tenant only."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vss.deps import Deps
from vss.domain.assets import AssetIndex, IndexManifest
from vss.domain.results import StoryIndexResult
from vss.domain.story_index import Hit, SceneDocuments
from vss.domain.tasks import Stage, Task, TaskStatus
from vss.errors import NotFound
from vss.service.storage import TaskFiles

if TYPE_CHECKING:
    from vss.retrieval.index import StoryIndex

log = logging.getLogger(__name__)


def register(deps: Deps, task: Task) -> bool:
    """Make a completed deploy's index the asset's, unless a deploy asked for later is there
    already; whether it was registered. Idempotent: a redelivered stage message registers the
    same record again."""
    result = task.results.get(Stage.STORY_INDEX)
    if task.status != TaskStatus.COMPLETED or not isinstance(result, StoryIndexResult):
        return False
    record = AssetIndex(
        tenant_id=task.tenant_id, asset_id=result.asset_id, manifest_path=result.index_path,
        task_id=task.id, requested_at=task.created,
        total_scene_count=result.total_scene_count, index_kind=result.index_kind,
        report=result.report, expire_at=task.expire_at)
    stored = deps.assets.put(record)
    log.info("story index of asset %s %s", result.asset_id,
             "registered" if stored else "kept: a later deploy holds it",
             extra={"task_id": task.id, "tenant_id": task.tenant_id})
    return stored


def current_manifest(deps: Deps, tenant_id: str, asset_id: str | None) -> str | None:
    """The manifest path of the asset's index (None: no asset, or none deployed)."""
    if not asset_id:
        return None
    record = deps.assets.get(tenant_id, asset_id)
    return record.manifest_path if record is not None and record.is_live(deps.clock()) \
        else None


def get_asset(deps: Deps, tenant_id: str, asset_id: str) -> AssetIndex:
    record = deps.assets.get(tenant_id, asset_id)
    if record is None or not record.is_live(deps.clock()):  # TTL deletion may lag a day
        raise NotFound(f"Asset {asset_id} has no story index.", details={"asset_id": asset_id})
    return record


def list_assets(deps: Deps, tenant_id: str) -> list[AssetIndex]:
    now = deps.clock()
    return [a for a in deps.assets.list_for_tenant(tenant_id) if a.is_live(now)]


def delete_asset(deps: Deps, tenant_id: str, asset_id: str) -> None:
    """Forget the asset's index (its files expire with the task that wrote them); a narration
    already pinned to it still reads it."""
    if not deps.assets.delete(tenant_id, asset_id):
        raise NotFound(f"Asset {asset_id} has no story index.", details={"asset_id": asset_id})


def read_manifest(deps: Deps, record: AssetIndex) -> IndexManifest:
    files = TaskFiles(deps, record.tenant_id, record.task_id)
    return IndexManifest.model_validate_json(files.read(record.manifest_path))


@dataclass(frozen=True)
class LoadedIndex:
    manifest: IndexManifest
    index: StoryIndex  # the deploy's BM25 artifact
    texts: dict[int, str]  # scene id -> its document


@dataclass(frozen=True)
class FoundScene:
    hit: Hit
    text: str


@dataclass(frozen=True)
class SearchAnswer:
    scenes: list[FoundScene]
    index_kind: str  # what answered: bm25, or embeddings
    fallback: str | None = None  # why an embeddings index's BM25 artifact answered


# Indexes are immutable artifacts: a loaded one stays right for as long as it is kept.
_CACHE_SIZE = 8
_loaded: OrderedDict[tuple[str, str], LoadedIndex] = OrderedDict()
_lock = threading.Lock()


def search(deps: Deps, tenant_id: str, asset_id: str, query: str, k: int) -> SearchAnswer:
    """The `k` scenes of the asset's index that best match `query`, best first: by their
    vectors for an embeddings index (the query embedded; its cost is not charged to a task),
    else by BM25 (`vss.retrieval.kinds`)."""
    from vss.retrieval.kinds import search_index  # see load_index

    loaded = load_index(deps, get_asset(deps, tenant_id, asset_id))
    answer = search_index(loaded.manifest, query, k, lexical=lambda: loaded.index,
                          embedder_for=deps.embedder_for, vectors=deps.vectors)
    return SearchAnswer([FoundScene(hit, loaded.texts.get(hit.scene_id, ""))
                         for hit in answer.hits], answer.kind, answer.fallback)


def load_index(deps: Deps, record: AssetIndex) -> LoadedIndex:
    key = (record.tenant_id, record.manifest_path)
    with _lock:
        if key in _loaded:
            _loaded.move_to_end(key)
            return _loaded[key]
    # Imported here, not with the module: the retrieval core brings numpy and jieba (about
    # 150 ms), and every function imports this module through the task services, while only
    # a search loads an index.
    from vss.retrieval.index import StoryIndex

    manifest = read_manifest(deps, record)
    files = TaskFiles(deps, record.tenant_id, record.task_id)
    index = StoryIndex.from_bytes(files.read(manifest.index_path))
    documents = SceneDocuments.model_validate_json(files.read(manifest.documents_path))
    loaded = LoadedIndex(manifest, index, {d.scene_id: d.text for d in documents.documents})
    with _lock:
        _loaded[key] = loaded
        while len(_loaded) > _CACHE_SIZE:
            _loaded.popitem(last=False)
    return loaded
