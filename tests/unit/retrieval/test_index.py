"""The BM25 story index: search, bytes that round-trip and never unpickle, determinism, and
how well a character's storyline is found on the real blueprint."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from typing import Any

import numpy as np
import pytest

from tests.support.paths import DATA
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import NarrationServiceParams
from vss.domain.story_index import SceneDocument
from vss.errors import StoryIndexInvalid
from vss.retrieval.build import build_index
from vss.retrieval.documents import scene_documents
from vss.retrieval.index import StoryIndex
from vss.retrieval.query import narration_query
from vss.retrieval.report import index_dataset

QUERIES = ["车小小 相亲", "楚昊轩 爷爷 催婚", "宋安娜 秘密 身份", "陆乘风", "合同 女朋友"]


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    return json.loads((DATA / "upstream_character_facts_example.json").read_bytes())


@pytest.fixture(scope="module")
def documents(blueprint: Dataset, facts: dict[str, Any]) -> list[SceneDocument]:
    return scene_documents(blueprint, facts)


@pytest.fixture(scope="module")
def index(documents: list[SceneDocument]) -> StoryIndex:
    return build_index(documents, "zh")


def test_search_ranks_scenes_by_the_query_terms_they_hold(index: StoryIndex):
    hits = index.search("陆乘风", 5)
    assert len(hits) == 5
    assert all(hit.matched == ["陆乘风"] for hit in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    both = index.search("楚昊轩 爷爷 催婚", 3)
    assert set(both[0].matched) >= {"楚昊轩", "爷爷"}


def test_a_query_with_no_known_term_finds_nothing(index: StoryIndex):
    assert index.search("", 5) == []
    assert index.search("的了。", 5) == []  # stop words and punctuation
    assert index.search("量子计算机", 5) == []
    assert index.search("车小小", 0) == []


def test_a_round_trip_through_bytes_answers_the_same(index: StoryIndex):
    loaded = StoryIndex.from_bytes(index.to_bytes())
    assert loaded.header == index.header
    for query in QUERIES:
        assert loaded.search(query, 10) == index.search(query, 10)
    assert loaded.to_bytes() == index.to_bytes()


def test_the_same_documents_give_the_same_bytes(documents: list[SceneDocument],
                                                index: StoryIndex):
    again = build_index([d.model_copy() for d in documents], "zh")
    assert again.to_bytes() == index.to_bytes()


def test_the_artifact_is_a_zip_of_json_and_npy(index: StoryIndex):
    with zipfile.ZipFile(io.BytesIO(index.to_bytes())) as archive:
        assert archive.namelist() == ["header.json", "data.npy", "indices.npy", "indptr.npy"]
        header = json.loads(archive.read("header.json"))
    assert (header["format"], header["version"], header["index_kind"]) == (
        "vss-story-index", 1, "bm25")
    names = header["tokenizer"]["user_words"]
    assert names == sorted(names) and "车小小" in names


def test_loading_and_searching_never_unpickle(index: StoryIndex,
                                              monkeypatch: pytest.MonkeyPatch):
    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError("the story index tried to unpickle")

    data = index.to_bytes()
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    loaded = StoryIndex.from_bytes(data)
    assert loaded.search("宋安娜", 3)


class _Bomb:
    ran = False

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Bomb._explode, ())

    @staticmethod
    def _explode() -> None:
        _Bomb.ran = True


def test_an_artifact_that_needs_pickle_is_refused_unread(index: StoryIndex):
    pickled = io.BytesIO()
    np.lib.format.write_array(pickled, np.array([_Bomb()], dtype=object), allow_pickle=True)
    data = _with_member(index.to_bytes(), "data.npy", pickled.getvalue())
    with pytest.raises(StoryIndexInvalid, match=r"data\.npy"):
        StoryIndex.from_bytes(data)
    assert not _Bomb.ran


@pytest.mark.parametrize(("change", "reason"), [
    (lambda data: b"not a zip", "not a story index"),
    (lambda data: _with_member(data, "header.json", b"{"), "not JSON"),
    (lambda data: _with_header(data, version=2), "version 2 is not supported"),
    (lambda data: _with_header(data, format="other"), "does not describe"),
    (lambda data: _with_header(data, scene_ids=[1]), "one episode per scene"),
    (lambda data: _with_member(data, "indptr.npy", _npy(np.zeros(3, "<i8"))), "column"),
    (lambda data: _with_member(data, "indices.npy", _npy(np.zeros(3, "<f4"))), "not a vector"),
])
def test_a_broken_artifact_is_refused(index: StoryIndex, change: Any, reason: str):
    with pytest.raises(StoryIndexInvalid, match=reason):
        StoryIndex.from_bytes(change(index.to_bytes()))


def _npy(array: np.ndarray) -> bytes:
    stream = io.BytesIO()
    np.lib.format.write_array(stream, array)
    return stream.getvalue()


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename,
                            content if info.filename == name else source.read(info))
    return out.getvalue()


def _with_header(data: bytes, **changes: object) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        header = json.loads(source.read("header.json"))
    return _with_member(data, "header.json", json.dumps({**header, **changes}).encode())


# -- a character's storyline on the real blueprint ----------------------------------------

# Characters in at most 60% of the 63 scenes (车小小 and 楚昊轩 are in 50 and 52 of them, so
# any scene is mostly theirs). Measured with narration_query's character_growth query
# (name x3 and the focus's words): p@5 0.8 / 1.0 / 1.0, p@10 0.9 / 0.9 / 0.9.
STORYLINES = ["宋安娜", "陆乘风", "爷爷"]


def _storyline_query(name: str, dataset: Dataset) -> str:
    params = NarrationServiceParams.model_validate({"lang": "zh", "control_params": {
        "narrative_focus": "character_growth",
        "character_focus": {"mode": "focus", "characters": [name]}}})
    return narration_query(params, dataset)


def test_a_storyline_query_finds_mostly_that_characters_scenes(
        blueprint: Dataset, documents: list[SceneDocument], index: StoryIndex):
    with_name = {name: {d.scene_id for d in documents if name in d.characters}
                 for name in STORYLINES}
    figures = {}
    for name in STORYLINES:
        hits = [h.scene_id for h in index.search(_storyline_query(name, blueprint), 10)]
        figures[name] = {
            "scenes": f"{len(with_name[name])}/{len(documents)}",
            "p@5": sum(h in with_name[name] for h in hits[:5]) / 5,
            "p@10": sum(h in with_name[name] for h in hits[:10]) / 10}
    print(f"storyline precision on the real blueprint: {figures}")
    assert all(f["p@5"] >= 0.8 and f["p@10"] >= 0.8 for f in figures.values()), figures
    assert sum(f["p@10"] for f in figures.values()) / len(figures) >= 0.85, figures


def test_the_seeds_own_narration_finds_the_scenes_it_was_written_from(index: StoryIndex,
                                                                      blueprint: Dataset):
    """Relevance judged independently of our index: each snippet of the seed's narration of
    this blueprint (tests/data/upstream_dubbing_script_example.json, written by the seed's own
    model) cites the scenes it tells; used as a query, it should find them. Chance would
    pick a cited scene as often as cited scenes are among all the scenes."""
    snippets = json.loads((DATA / "upstream_dubbing_script_example.json").read_text(
        "utf-8"))["dubbing_script"]
    precision_5 = recall_10 = chance = 0.0
    for snippet in snippets:
        cited = set(snippet["source_scene_ids"])
        hits = [h.scene_id for h in index.search(snippet["narration"], 10)]
        precision_5 += sum(h in cited for h in hits[:5]) / 5 / len(snippets)
        recall_10 += sum(h in cited for h in hits) / len(cited) / len(snippets)
        chance += len(cited) / len(blueprint.scenes) / len(snippets)
    print(f"the seed's narration as queries ({len(snippets)}): p@5 {precision_5:.2f} "
          f"(chance {chance:.2f}), recall@10 {recall_10:.2f}")
    assert precision_5 >= 0.75 and precision_5 >= 4 * chance
    assert recall_10 >= 0.65


def test_an_english_index(english: Dataset):
    built = index_dataset(english)
    assert built.index.header.tokenizer.kind == "words"
    hits = built.index.search("Mara finds her grandfather's letter", 4)
    assert hits[0].scene_id == 4
    assert hits[0].matched == ["mara", "finds", "grandfather", "letter"]
    assert {h.scene_id for h in built.index.search("storm", 4)} == {3}


def test_index_dataset_reports_the_build(blueprint: Dataset, facts: dict[str, Any],
                                         index: StoryIndex):
    built = index_dataset(blueprint, facts)
    assert built.artifact == index.to_bytes()
    report = built.report
    assert (report.total_scene_count, report.documents, report.index_kind) == (63, 63, "bm25")
    assert report.bytes == len(built.artifact)
    assert report.tokenizer.startswith("zh: jieba-search (jieba 0.42")
    assert report.build_seconds > 0


def test_scenes_without_a_term_are_not_indexed():
    documents = [SceneDocument(scene_id=1, episode=1, text="The storm.", characters=[]),
                 SceneDocument(scene_id=2, episode=1, text="...", characters=[])]
    index = build_index(documents, "en")
    assert index.header.scene_ids == [1]
    assert StoryIndex.from_bytes(index.to_bytes()).search("storm", 5)[0].scene_id == 1
    empty = build_index([], "en")
    assert StoryIndex.from_bytes(empty.to_bytes()).search("storm", 5) == []


@pytest.fixture(scope="module")
def english() -> Dataset:
    return parse_dataset((DATA / "narrative_dataset_small.json").read_bytes())
