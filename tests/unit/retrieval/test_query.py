"""The query a narration request implies: its characters, its focus's words, its prompts."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.paths import DATA
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import NarrationServiceParams
from vss.narration.focus import RULES
from vss.retrieval.query import NAME_WEIGHT, narration_query


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


@pytest.fixture(scope="module")
def english() -> Dataset:
    return parse_dataset((DATA / "narrative_dataset_small.json").read_bytes())


def _params(**control: Any) -> NarrationServiceParams:
    return NarrationServiceParams.model_validate({"lang": "zh", "control_params": control})


def test_a_general_request_on_every_character_implies_nothing(blueprint: Dataset):
    assert narration_query(_params(), blueprint) == ""


def test_the_characters_a_request_names_come_first_and_weigh_most(blueprint: Dataset):
    query = narration_query(_params(
        narrative_focus="business_success", perspective="first_person",
        perspective_character="车小小",
        character_focus={"mode": "focus", "characters": ["陆乘风", "车小小"]}), blueprint)
    words = query.split()
    assert words[:2 * NAME_WEIGHT] == ["陆乘风"] * NAME_WEIGHT + ["车小小"] * NAME_WEIGHT
    assert words[2 * NAME_WEIGHT:] == [*RULES["business_success"].keywords["zh"]]


def test_all_characters_means_no_character_focus(blueprint: Dataset):
    query = narration_query(_params(
        narrative_focus="suspense_reveal",
        character_focus={"mode": "all", "characters": ["陆乘风"]}), blueprint)
    assert "陆乘风" not in query
    assert query.endswith("Eerie Suspenseful Tense")  # the focus's moods, as scenes say them


def test_a_romance_follows_its_couple(blueprint: Dataset):
    query = narration_query(_params(narrative_focus="romantic_progression"), blueprint)
    assert query.startswith("车小小 楚昊轩 喜欢")  # the couple read_focus finds, once each


def test_custom_prompts_are_part_of_the_query(blueprint: Dataset):
    query = narration_query(_params(
        narrative_focus="custom", style="custom",
        custom_prompts={"narrative_focus": "爷爷催婚，逼着孙子去相亲",
                        "style": "像脱口秀一样"}), blueprint)
    assert query == "爷爷 爷爷催婚，逼着孙子去相亲 像脱口秀一样"


def test_stems_become_the_datasets_words_in_a_language_with_spaces(english: Dataset):
    query = narration_query(_params(narrative_focus="character_growth", perspective="first_person",
                                    perspective_character="Mara"), english).split()
    assert "understands" in query  # "understand" as scene 4 writes it
    assert "finally" in query
    assert "brave" in query  # no word of the dataset begins with it: the stem itself
    assert query[:NAME_WEIGHT + 1] == ["Mara"] * NAME_WEIGHT + ["decide"]
