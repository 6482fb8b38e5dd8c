"""A fact's quote must be in its scene, up to whitespace and the width of punctuation."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import DATA
from tests.support.synthetic import story
from vss.analysis.verbatim import normalise, quoted_in, says_more_than_names
from vss.domain.dataset import Dataset, parse_dataset


@pytest.fixture(scope="module")
def scene() -> object:
    dataset = parse_dataset(story({
        "lines": [("车小小", "我就是和风集团继承人"), ("车小小", "宋安娜"),
                  ("Mara", "Nobody has climbed these stairs, Tom.")],
        "captions": ["车小小 海晏集团职员"],
        "summary": "车小小假扮成“宋安娜”去相亲。",
    }))
    return dataset.scenes[1]


@pytest.mark.parametrize("quote", [
    "车小小 海晏集团职员",
    "车小小海晏集团职员",  # a space between hanzi is no word
    "我就是和风集团继承人 宋安娜",  # a sentence a subtitle split over two lines
    "我就是和风集团继承人宋安娜",
    '假扮成"宋安娜"去相亲',  # straight quotes for curly ones
    "“车小小 海晏集团职员”",  # wrapped in quote marks
    "Nobody has climbed  these stairs ,Tom.",
])
def test_verbatim_quotes(scene, quote):
    assert quoted_in(quote, scene) is not None


@pytest.mark.parametrize("quote", [
    "车小小 海晏集团员工",  # a paraphrase
    "我是和风集团继承人",  # a word left out
    "nobody has climbed these stairs",  # letter case is as written
    "Nobodyhas climbed these stairs",  # a space between two words is one
    "",
    "  ",
])
def test_what_is_not_verbatim(scene, quote):
    assert quoted_in(quote, scene) is None


def test_full_width_punctuation_is_normalised():
    assert normalise("你好，世界！ ｢好｣") == normalise("你好,世界!「好」") == "你好,世界!「好」"


def test_the_seeds_quotes_are_verbatim_but_one_that_elides_lines(blueprint: Dataset):
    example = json.loads((DATA / "upstream_character_facts_example.json").read_text())
    failing = [(name, fact["scene_id"], fact["source_text"])
               for name, facts in example["identified_facts_by_character"].items()
               for fact in facts
               if quoted_in(fact["source_text"], blueprint.scenes[fact["scene_id"]]) is None]

    # Scene 37 says "尤其是别暴露 / 我在他公司上班的事情"; the seed quoted it without them.
    assert failing == [("车小小", 37, "千万别暴露 我在他公司上班的事情")]


def test_a_quote_of_names_alone_states_nothing():
    names = ["车小小", "宋安娜", "Mara"]
    assert not says_more_than_names("宋安娜", names)
    assert not says_more_than_names("车小小，宋安娜！", names)
    assert not says_more_than_names(" Mara. ", names)
    assert says_more_than_names("我就是和风集团继承人 宋安娜", names)
    assert says_more_than_names("Mara climbs", names)
