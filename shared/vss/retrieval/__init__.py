"""A per-asset story index (DEPLOY_RAG_CORPUS, lexical kind): the pure core.

`documents.scene_documents` turns a dataset (and the seed's character facts) into one
document per scene; `build.build_index` indexes them with BM25 over terms cut by language
(`tokens`); `index.StoryIndex` searches and round-trips through bytes; `query.narration_query`
is the query a narration request implies; `report.index_dataset` does all of it and reports
the build. No I/O here besides (de)serialising bytes. Nothing is re-exported here: the API
imports `index` alone and so ships no builder.
"""
