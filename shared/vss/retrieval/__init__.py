"""A per-asset story index (DEPLOY_RAG_CORPUS, lexical kind): the pure core.

`scene_documents` turns a dataset (and the seed's character facts) into one document per
scene; `build_index` indexes them with BM25 over terms cut by language (`vss.retrieval.tokens`);
`StoryIndex` searches and round-trips through bytes; `narration_query` is the query a
narration request implies; `index_dataset` does all of it and reports the build. No I/O here
besides (de)serialising bytes: reading and writing the artifact is the caller's.
"""

from vss.retrieval.documents import CharacterFactsLike, scene_documents
from vss.retrieval.index import StoryIndex, build_index
from vss.retrieval.query import narration_query
from vss.retrieval.report import IndexedStory, index_dataset

__all__ = [
    "CharacterFactsLike",
    "IndexedStory",
    "StoryIndex",
    "build_index",
    "index_dataset",
    "narration_query",
    "scene_documents",
]
