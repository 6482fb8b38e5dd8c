"""Building the lexical story index: each document cut into terms (`vss.retrieval.tokens`),
and every (document, term) BM25 score computed once by bm25s (Lucene's variant, k1 1.5,
b 0.75)."""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np

from vss.domain.story_index import Bm25Params, SceneDocument, StoryIndexHeader
from vss.retrieval._artifact import ScoreMatrix
from vss.retrieval.index import StoryIndex
from vss.retrieval.tokens import terms_for

_BM25 = Bm25Params(library=f"bm25s {bm25s.__version__}")


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
