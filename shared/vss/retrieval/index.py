"""The lexical story index: BM25 over the terms of each scene document.

`build_index` cuts each document into terms (`vss.retrieval.tokens`) and has bm25s compute
every (document, term) BM25 score once (Lucene's variant, k1 1.5, b 0.75). A search adds up
the score columns of the query's terms, so it costs what those columns hold, whatever the
number of scenes. The index round-trips through `to_bytes` / `from_bytes`
(`vss.retrieval._artifact`): the same documents give the same bytes, and a loaded index
answers as the built one did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

import bm25s
import numpy as np
import numpy.typing as npt

from vss.domain.story_index import Bm25Params, Hit, SceneDocument, StoryIndexHeader
from vss.retrieval._artifact import ScoreMatrix, read, write
from vss.retrieval.tokens import Terms, terms_for

__all__ = ["StoryIndex", "build_index"]

_BM25 = Bm25Params(library=f"bm25s {bm25s.__version__}")


class StoryIndex:
    """A built or loaded story index; immutable."""

    def __init__(self, header: StoryIndexHeader, matrix: ScoreMatrix) -> None:
        self.header = header
        self._matrix = matrix
        self._terms = Terms(header.tokenizer)
        self._columns = {term: column for column, term in enumerate(header.vocabulary)}

    @property
    def document_count(self) -> int:
        return len(self.header.scene_ids)

    @property
    def terms(self) -> Terms:
        """What cuts a query the way the documents were cut."""
        return self._terms

    def search(self, query: str, k: int = 10) -> list[Hit]:
        """The `k` scenes that best match `query`, best first (ties in document order); only
        scenes holding at least one of its terms. A query term counts as often as it occurs."""
        if k <= 0 or not self.document_count:
            return []
        wanted = [t for t in self._terms(query) if t in self._columns]
        if not wanted:
            return []
        data, rows, indptr = self._matrix
        scores: npt.NDArray[np.float64] = np.zeros(self.document_count)
        for term in wanted:
            column = self._columns[term]
            start, end = indptr[column], indptr[column + 1]
            scores[rows[start:end]] += data[start:end]
        found = np.flatnonzero(scores > 0)
        best = found[np.argsort(-scores[found], kind="stable")][:k]
        unique = list(dict.fromkeys(wanted))
        holds = {term: np.isin(best, rows[indptr[self._columns[term]]:
                                          indptr[self._columns[term] + 1]])
                 for term in unique}
        return [Hit(scene_id=self.header.scene_ids[row], score=round(float(scores[row]), 6),
                    matched=[term for term in unique if holds[term][rank]])
                for rank, row in enumerate(best.tolist())]

    def to_bytes(self) -> bytes:
        return write(self.header, self._matrix)

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        """The index `to_bytes` wrote; StoryIndexInvalid when `data` is not one this code reads.
        Executes nothing from `data` (no pickle)."""
        header, matrix = read(data)
        return cls(header, matrix)


def build_index(documents: Sequence[SceneDocument], lang: str) -> StoryIndex:
    """BM25 over `documents` cut in `lang`, each document's characters kept whole as terms.
    A document with no term is left out of the index (it could never match)."""
    names = sorted({name for doc in documents for name in doc.characters})
    terms = terms_for(lang, names)
    cut = [(doc, terms(doc.text)) for doc in documents]
    kept = [(doc, words) for doc, words in cut if words]
    vocabulary = sorted({word for _, words in kept for word in words})
    header = StoryIndexHeader(
        tokenizer=terms.spec, bm25=_BM25, vocabulary=vocabulary,
        scene_ids=[doc.scene_id for doc, _ in kept], episodes=[doc.episode for doc, _ in kept])
    return StoryIndex(header, _scores(vocabulary, [words for _, words in kept]))


def _scores(vocabulary: list[str], documents: list[list[str]]) -> ScoreMatrix:
    if not documents:
        return ScoreMatrix(np.zeros(0, np.float32), np.zeros(0, np.int32),
                           np.zeros(len(vocabulary) + 1, np.int64))
    ids = {term: i for i, term in enumerate(vocabulary)}
    # Token ids with our sorted vocabulary: bm25s would number terms in set order, which
    # changes from one process to the next.
    model = bm25s.BM25(method=_BM25.method, k1=_BM25.k1, b=_BM25.b)
    model.index(([[ids[w] for w in words] for words in documents], ids),
                create_empty_token=False, show_progress=False)
    scores = model.scores
    return ScoreMatrix(np.asarray(scores["data"], np.float32),
                       np.asarray(scores["indices"], np.int32),
                       np.asarray(scores["indptr"], np.int64))
