"""The lexical story index, loaded and searched: BM25 over the terms of each scene document.

`vss.retrieval.build` makes it (with bm25s); loading and searching need only numpy, so the
API, which searches, does not ship the builder. A search adds up
the score columns of the query's terms, so it costs what those columns hold, whatever the
number of scenes. The index round-trips through `to_bytes` / `from_bytes`
(`vss.retrieval._artifact`): the same documents give the same bytes, and a loaded index
answers as the built one did.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import numpy.typing as npt

from vss.domain.story_index import Hit, StoryIndexHeader
from vss.retrieval._artifact import ScoreMatrix, read, write
from vss.retrieval.tokens import Terms

__all__ = ["StoryIndex"]


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
