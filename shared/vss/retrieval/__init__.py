"""A per-asset story index (DEPLOY_RAG_CORPUS, lexical kind): the pure core."""
