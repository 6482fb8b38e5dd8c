"""A per-asset story index (DEPLOY_RAG_CORPUS, lexical kind): the pure core."""

from vss.retrieval.documents import CharacterFactsLike, scene_documents
from vss.retrieval.query import narration_query

__all__ = ["CharacterFactsLike", "narration_query", "scene_documents"]
