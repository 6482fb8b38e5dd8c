"""A dataset's story index in one call, with the report of its build."""

from __future__ import annotations

import time
from dataclasses import dataclass

from vss.domain.dataset import Dataset
from vss.domain.story_index import IndexReport
from vss.narration.language import dataset_language
from vss.retrieval.build import build_index
from vss.retrieval.documents import CharacterFactsLike, scene_documents
from vss.retrieval.index import StoryIndex

__all__ = ["IndexedStory", "index_dataset"]


@dataclass(frozen=True)
class IndexedStory:
    index: StoryIndex
    artifact: bytes  # `index.to_bytes()`, what the caller stores
    report: IndexReport


def index_dataset(dataset: Dataset, facts: CharacterFactsLike | None = None,
                  lang: str | None = None) -> IndexedStory:
    """Documents, index and artifact of `dataset`, cut in `lang` (the dataset's own language
    when None), and what building them took."""
    started = time.perf_counter()
    index = build_index(scene_documents(dataset, facts), lang or dataset_language(dataset))
    artifact = index.to_bytes()
    report = IndexReport(
        total_scene_count=len(dataset.scenes), documents=index.document_count,
        tokenizer=index.header.tokenizer.describe(),
        build_seconds=round(time.perf_counter() - started, 4), bytes=len(artifact))
    return IndexedStory(index, artifact, report)
