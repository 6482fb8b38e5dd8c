"""One retrieval document per scene: its words, its characters and their facts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.paths import DATA
from vss.domain.dataset import Dataset, parse_dataset
from vss.errors import PayloadInvalid
from vss.retrieval.documents import cast, parse_facts, passage, scene_documents


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


@pytest.fixture(scope="module")
def facts_file() -> dict[str, Any]:
    return json.loads((DATA / "upstream_character_facts_example.json").read_bytes())


@pytest.fixture(scope="module")
def facts(facts_file: dict[str, Any]) -> dict[str, Any]:
    return facts_file["identified_facts_by_character"]


def test_one_document_per_scene_in_story_order(blueprint: Dataset, facts: dict[str, Any]):
    documents = scene_documents(blueprint, facts)
    assert [d.scene_id for d in documents] == [s.id for s in blueprint.scenes_in_story_order()]
    assert all(d.episode == blueprint.scenes[d.scene_id].chapter_id for d in documents)
    assert all(d.text for d in documents)


def test_a_document_holds_the_scene_and_the_facts_found_in_it(blueprint: Dataset,
                                                              facts: dict[str, Any]):
    first = next(d for d in scene_documents(blueprint, facts) if d.scene_id == 1)
    lines = first.text.splitlines()
    scene = blueprint.scenes[1]
    assert scene.character_dynamics in lines
    assert "车小小: 车小小，好戏开场了" in lines  # speaker: line
    assert "楚昊轩 海晏集团总裁" in lines  # a caption
    assert scene.location in lines
    assert "Calm" in lines
    assert "车小小 职业: 海晏集团职员" in lines
    # Recorded twice by the seed (two source sentences), written once.
    assert lines.count("车小小 扮演身份: 和风集团继承人宋安娜") == 1
    assert first.characters == ["车小小", "楚昊轩", "宋安娜"]


def test_every_fact_of_a_known_scene_is_in_its_document(blueprint: Dataset,
                                                        facts: dict[str, Any]):
    documents = {d.scene_id: d for d in scene_documents(blueprint, facts)}
    for name, found in facts.items():
        for fact in found:
            if fact["scene_id"] in documents:
                document = documents[fact["scene_id"]]
                assert f"{name} {fact['attribute']}: {fact['value']}" in document.text
                assert name in document.characters


def test_without_facts_the_documents_are_the_scenes_alone(blueprint: Dataset,
                                                          facts: dict[str, Any]):
    bare = scene_documents(blueprint, None)
    rich = scene_documents(blueprint, facts)
    assert all(r.text.startswith(b.text) for b, r in zip(bare, rich, strict=True))
    assert sum(len(r.text) - len(b.text) for b, r in zip(bare, rich, strict=True)) > 0


def test_the_whole_facts_file_is_accepted_too(blueprint: Dataset, facts_file: dict[str, Any],
                                              facts: dict[str, Any]):
    assert scene_documents(blueprint, facts_file) == scene_documents(blueprint, facts)


def test_the_cast_is_who_speaks_most_without_extras(blueprint: Dataset):
    names = cast(blueprint)
    assert names[:4] == ["车小小", "楚昊轩", "宋安娜", "陆乘风"]
    assert "路人_1" not in names


def test_malformed_facts_are_reported_with_pointers():
    with pytest.raises(PayloadInvalid) as raised:
        parse_facts({"车小小": [{"scene_id": "one", "attribute": "职业", "value": "职员",
                                 "source_text": "职员", "type": "状态性"},
                                {"scene_id": 2, "value": "演技", "source_text": "演技",
                                 "type": "恒定"}]})
    pointers = [e["pointer"] for e in raised.value.details["errors"]]
    assert pointers == ["/车小小/0/scene_id", "/车小小/1/attribute"]


def test_an_english_dataset(english: Dataset):
    documents = scene_documents(english, None)
    assert len(documents) == len(english.scenes)
    fourth = next(d for d in documents if d.scene_id == 4)
    assert "N" not in fourth.text.splitlines()  # an unknown mood is left out
    assert fourth.characters == ["Mara"]


@pytest.fixture(scope="module")
def english() -> Dataset:
    return parse_dataset((DATA / "narrative_dataset_small.json").read_bytes())


def test_a_found_scene_shows_the_lines_that_matched():
    text = "A quiet morning at the café.\nMara: I'm a junior clerk.\nTom: Coffee?\nClerk Mara"
    assert passage(text, ["clerk"], 300) == "Mara: I'm a junior clerk.\nClerk Mara"
    assert passage(text, ["clerk"], 10) == "Mara: I'm "
    assert passage(text, [], 14) == "A quiet mornin"  # an embeddings search matches no term
    assert passage(text, ["tea"], 300) == text
