"""Facts read without a model: caption cards and self-introductions, nothing riskier."""

from __future__ import annotations

import pytest

from tests.support.synthetic import story
from vss.analysis.offline import offline_facts, read_title
from vss.analysis.verbatim import quoted_in
from vss.domain.cast import speakers
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.fact_vocabulary import Attribute


def _said(facts: dict, name: str) -> list[tuple[int, str, str, str]]:
    return [(f.scene_id, f.attribute, f.value, f.source_text) for f in facts[name]]


def test_the_blueprints_cards_and_introductions(blueprint: Dataset):
    facts = offline_facts(blueprint, speakers(blueprint), "zh")

    assert _said(facts, "车小小") == [
        (1, "职业", "海晏集团职员", "车小小 海晏集团职员"),
        (1, "扮演身份", "和风集团继承人宋安娜", "我就是和风集团继承人 宋安娜"),
    ]
    assert _said(facts, "宋安娜") == [(2, "社会属性", "和风集团继承人", "宋安娜 和风集团继承人")]
    assert _said(facts, "楚昊轩") == [(1, "职业", "海晏集团总裁", "楚昊轩 海晏集团总裁")]
    every = [f for found in facts.values() for f in found]
    assert {(f.source, f.type) for f in every} == {("offline", "状态性")}
    assert all(quoted_in(f.source_text, blueprint.scenes[f.scene_id]) == f.source_text
               for f in every)


def test_labels_are_in_the_reports_language(blueprint: Dataset):
    facts = offline_facts(blueprint, ["车小小"], "en")

    assert [(f.attribute, f.value, f.type) for f in facts["车小小"]] == [
        ("occupation", "海晏集团职员", "stateful"),
        ("assumed identity", "和风集团继承人宋安娜", "stateful"),
    ]


@pytest.mark.parametrize(("caption", "expected"), [
    ("车小小，海晏集团职员", ("职业", "海晏集团职员")),
    ("车小小：和风集团继承人", ("社会属性", "和风集团继承人")),
    ("车小小 车家的女儿", ("家庭状态", "车家的女儿")),
    ("车小小 二十五岁", None),  # no cue: no fact
    ("车小小", None),
    ("车小小妈妈 甜品店老板", None),  # another character's card
    ("三个小时前", None),
])
def test_caption_cards(caption, expected):
    dataset = parse_dataset(story({"captions": [caption], "lines": [("车小小", "嗯"),
                                                                    ("车小小妈妈", "来了")]}))

    facts = offline_facts(dataset, ["车小小"], "zh")["车小小"]

    assert [(f.attribute, f.value) for f in facts] == ([expected] if expected else [])


@pytest.mark.parametrize(("speaker", "lines", "expected"), [
    ("Mara", ["I'm Anna, heir of the Hefeng Group."],
     ("assumed identity", "Anna, heir of the Hefeng Group")),
    ("Mara", ["Listen.", "I am Anna"], ("assumed identity", "Anna")),
    ("Mara", ["I'm a junior clerk at Haiyan Group."],
     ("occupation", "junior clerk at Haiyan Group")),
    ("Mara", ["I'm Mara, heir of the Hefeng Group!"],
     ("social standing", "heir of the Hefeng Group")),
    ("Mara", ["I'm sorry, Anna."], None),
    ("Mara", ["I'm your boss."], None),
    ("Mara", ["I'm not Anna."], None),
    ("Mara", ["I'm Mara."], None),  # naming oneself says nothing
    ("Mara", ["Tomorrow I'm Anna's driver."], None),  # not at a clause's start
])
def test_english_self_introductions(speaker, lines, expected):
    dataset = parse_dataset(story({"lines": [(speaker, line) for line in lines]
                                   + [("Anna", "Hello.")]}))

    facts = offline_facts(dataset, ["Mara"], "en")["Mara"]

    assert [(f.attribute, f.value) for f in facts] == ([expected] if expected else [])


@pytest.mark.parametrize(("line", "expected"), [
    ("我就是宋安娜", ("扮演身份", "宋安娜")),
    ("我是个小职员", ("职业", "小职员")),
    ("我是宋安娜的妈妈", ("家庭状态", "宋安娜的妈妈")),
    ("我是说你别走", None),
    ("我是你老板", None),  # someone else's title
    ("我是宋安娜的朋友", None),
    ("但我是医生", None),  # not at a clause's start
])
def test_chinese_self_introductions(line, expected):
    dataset = parse_dataset(story({"lines": [("车小小", line), ("宋安娜", "嗯")]}))

    facts = offline_facts(dataset, ["车小小"], "zh")["车小小"]

    assert [(f.attribute, f.value) for f in facts] == ([expected] if expected else [])


def test_french_self_introduction():
    dataset = parse_dataset(story({"lines": [("Mara", "Je suis l'héritière du groupe Hefeng."),
                                             ("Tom", "Moi, c'est Mara.")]}))

    facts = offline_facts(dataset, ["Mara", "Tom"], "fr")

    assert [(f.attribute, f.value, f.type) for f in facts["Mara"]] == [
        ("statut social", "héritière du groupe Hefeng", "état")]
    assert [(f.attribute, f.value) for f in facts["Tom"]] == [
        ("identité d'emprunt", "Mara")]


@pytest.mark.parametrize(("title", "attribute", "value"), [
    ("海晏集团总裁特助", Attribute.OCCUPATION, "海晏集团总裁特助"),
    ("名媛", Attribute.SOCIAL_STANDING, "名媛"),  # 名 is a measure word only before a title
    ("The CEO of Haiyan", Attribute.OCCUPATION, "CEO of Haiyan"),
    ("Haiyan Group employee", Attribute.OCCUPATION, "Haiyan Group employee"),
    ("police officer", Attribute.OCCUPATION, "police officer"),
    ("avocate célèbre", None, None),  # the head is not last: no fact rather than a guess
    ("model citizen", None, None),
])
def test_titles(title, attribute, value):
    found = read_title(title)

    assert (found.attribute, found.value) == (attribute, value) if found else attribute is None
