"""Terms by language: jieba's search mode for Chinese with names whole, words elsewhere."""

from __future__ import annotations

import pytest

from vss.domain.language import LANGUAGES, UnknownLanguage
from vss.retrieval.tokens import TOKEN_PROFILES, Segmenter, terms_for


def test_every_language_has_a_token_profile():
    assert set(TOKEN_PROFILES) == set(LANGUAGES)
    with pytest.raises(UnknownLanguage):
        terms_for("de")


def test_english_is_lower_cased_words_without_stop_words():
    terms = terms_for("en")
    assert terms("Mara's grandfather kept the LAMP burning, every night until 1999!") == [
        "mara", "grandfather", "kept", "lamp", "burning", "every", "night", "until", "1999"]
    assert terms.spec.kind == Segmenter.WORDS
    assert terms.spec.user_words == []


def test_french_elisions_are_split_and_dropped():
    terms = terms_for("fr")
    assert terms("L'école est fermée, et qu'il pleuve ou non, Mara l'attend.") == [
        "école", "fermée", "pleuve", "non", "mara", "attend"]


def test_chinese_is_cut_for_search_and_loses_punctuation_and_stop_words():
    terms = terms_for("zh")
    cut = terms("她的目的是假扮闺蜜和风集团继承人宋安娜。")
    assert "继承人" in cut and "继承" in cut  # the word, and the word inside it
    assert not {"的", "是", "。", ""} & set(cut)


def test_a_character_name_is_one_term():
    plain = terms_for("zh")("车小小浓妆打扮后来到约定好的相亲地点")
    named = terms_for("zh", ["车小小"])("车小小浓妆打扮后来到约定好的相亲地点")
    assert "车小小" not in plain
    assert named[0] == "车小小"
    assert "小小" not in named  # a name is not cut into words that mean something else


def test_names_do_not_leak_from_one_tokenizer_to_another():
    terms_for("zh", ["车小小"])
    assert "车小小" not in terms_for("zh")("车小小来了")


def test_cutting_is_deterministic():
    text = "楚昊轩的爷爷催他相亲，车小小假扮宋安娜赴约，海晏集团总裁当场识破。"
    names = ["楚昊轩", "车小小", "宋安娜"]
    first = terms_for("zh", names)
    second = terms_for("zh", list(reversed(names)))
    assert first(text) == second(text)
    assert first.spec == second.spec
