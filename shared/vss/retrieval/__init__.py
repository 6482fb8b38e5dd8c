"""A per-asset story index (DEPLOY_RAG_CORPUS, lexical kind): the pure core."""

from vss.retrieval.documents import CharacterFactsLike, scene_documents

__all__ = ["CharacterFactsLike", "scene_documents"]
