"""A per-asset story index (DEPLOY_RAG_CORPUS): its documents, its hits, the header of its
lexical artifact and the report of a build.

`vss.retrieval` builds, serialises and searches the index; these are the shapes it hands out
and stores. Every deploy writes the lexical artifact: a ZIP holding ``header.json`` (a
`StoryIndexHeader`) and the BM25 score matrix as ``.npy`` arrays (nothing in it is code, and
it loads without pickle). A deploy with an embedding model configured also stores one vector
per document (`IndexKind` "embeddings"), and that is what answers its searches.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "STORY_INDEX_FORMAT",
    "STORY_INDEX_VERSION",
    "Bm25Params",
    "Hit",
    "IndexKind",
    "IndexReport",
    "SceneDocument",
    "SceneDocuments",
    "StoryIndexHeader",
    "TokenizerSpec",
]

STORY_INDEX_FORMAT: Final = "vss-story-index"
STORY_INDEX_VERSION: Final = 1

# What answers a deploy's searches: its BM25 artifact, or its documents' embeddings.
IndexKind = Literal["bm25", "embeddings"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SceneDocument(_Frozen):
    """What the index knows of one scene: its words, and who is in it."""

    scene_id: int
    episode: int = Field(description="The scene's chapter id.")
    text: str = Field(description="Summary, dynamics, lines (speaker: text), captions, "
                      "highlights, location, mood and the characters' facts, one per line.")
    characters: list[str] = Field(description="Characters who speak in the scene, are named by "
                                  "its summary, dynamics, captions or highlights, or have a "
                                  "fact recorded in it.")


class SceneDocuments(_Frozen):
    """The indexed text of every scene, stored beside the index: what a search shows of the
    scenes it finds."""

    documents: list[SceneDocument]


class Hit(_Frozen):
    """One scene a search found, best first."""

    scene_id: int
    score: float = Field(description="BM25 score (positive), or for embeddings the cosine "
                         "similarity of scene and query (1 - cosine distance, at most 1): "
                         "comparable within one search only.")
    matched: list[str] = Field(default_factory=list, description="The query's terms the scene "
                               "holds, in query order (none for embeddings).")


class TokenizerSpec(_Frozen):
    """How text was cut into terms: what a query must be cut with to match them."""

    lang: str
    kind: Literal["jieba-search", "words"] = Field(
        description="jieba-search: jieba's precise cut plus the dictionary words inside long "
        "words (character names kept whole); words: lower-cased runs of letters and digits.")
    user_words: list[str] = Field(
        default_factory=list, description="Words added to the segmenter's dictionary (the "
        "dataset's character names), sorted.")
    stop_words: list[str] = Field(default_factory=list, description="Terms dropped, sorted.")
    library: str | None = Field(None, description="The segmenter and its version.")

    def describe(self) -> str:
        extra = f", {len(self.user_words)} names" if self.user_words else ""
        return f"{self.lang}: {self.kind} ({self.library or 'regex'}{extra})"


class Bm25Params(_Frozen):
    method: Literal["lucene"] = "lucene"
    k1: float = 1.5
    b: float = 0.75
    library: str = Field(description="The library that computed the scores, and its version.")


class StoryIndexHeader(_Frozen):
    """``header.json`` of a story index artifact: everything but the score matrix, whose
    arrays (``data``, ``indices``, ``indptr``: one column of document scores per term of
    `vocabulary`) sit beside it."""

    format: Literal["vss-story-index"] = STORY_INDEX_FORMAT
    version: Literal[1] = STORY_INDEX_VERSION
    index_kind: Literal["bm25"] = "bm25"
    tokenizer: TokenizerSpec
    bm25: Bm25Params
    vocabulary: list[str] = Field(description="Terms, sorted; a term's position is its column.")
    scene_ids: list[int] = Field(description="The indexed scenes; a position is a row.")
    episodes: list[int] = Field(description="Each indexed scene's chapter id.")


class IndexReport(_Frozen):
    """What one build of a story index did."""

    total_scene_count: int = Field(ge=0, description="Scenes in the dataset.")
    documents: int = Field(ge=0, description="Scenes indexed: those with at least one term.")
    index_kind: IndexKind = Field("bm25", description="What answers the index's searches.")
    tokenizer: str = Field(description="The tokenizer, as `TokenizerSpec.describe` says it.")
    build_seconds: float = Field(ge=0, description="Terms, scores and artifact (and the "
                                 "documents, unless the caller made them first, as the deploy "
                                 "stage does to name the vectors' scope); for embeddings also "
                                 "embedding and storing the vectors.")
    bytes: int = Field(ge=0, description="Size of the serialised lexical artifact.")
    embedding_model: str | None = Field(None, description="The model that embedded the "
                                        "documents (embeddings only).")
    dimensions: int | None = Field(None, ge=1, description="Length of each stored vector.")
    embedded: int | None = Field(None, ge=0, description="Documents embedded and stored: "
                                 "those with text.")
    embedding_tokens: int | None = Field(None, ge=0, description="Tokens embedded.")
    tokens_estimated: bool | None = Field(None, description="True when the provider reported "
                                          "no token count and it was estimated from the text.")
    cost_usd: float = Field(0.0, ge=0, description="Estimated cost of the build (the "
                            "embedding calls at their configured price; BM25 costs nothing).")
