"""The error rates the voice benchmark judges voices by (tests.support.intelligibility), on
hand-worked examples."""

from __future__ import annotations

import pytest

from tests.support.intelligibility import (
    Tally,
    character_tally,
    edit_distance,
    normalise,
    syllable_tally,
    syllables,
)


@pytest.mark.parametrize(("reference", "hypothesis", "distance"), [
    ("kitten", "sitting", 3),  # k→s, e→i, +g
    ("", "abc", 3),
    ("abc", "", 3),
    ("abc", "abc", 0),
    (["xiang1", "qin1"], ["xiang1"], 1),
])
def test_edit_distance_counts_substitutions_insertions_and_deletions(reference, hypothesis,
                                                                     distance):
    assert edit_distance(reference, hypothesis) == distance


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("ＡＢＣ，Ｄ！", "en", "abc d"),  # full width is half width
    ("Peut-être l’homme… ", "fr", "peut être l homme"),
    ("Peut être l'homme", "fr", "peut être l homme"),
    ("She walks  into\nthe CAFE.", "en", "she walks into the cafe"),
    ("车小小 走进咖啡厅，一眼就看见了。", "zh", "车小小走进咖啡厅一眼就看见了"),
    ("她拿出 iPhone Pro 手机", "zh", "她拿出iphone pro手机"),
    ("“始祖鸟”", "zh", "始祖鸟"),
])
def test_normalise_keeps_only_what_is_heard(text, lang, expected):
    assert normalise(text, lang) == expected


def test_a_recogniser_spacing_and_punctuating_its_own_way_makes_no_error():
    reference = "车小小走进咖啡厅，一眼就看见了坐在窗边的人。"
    heard = "车小小 走进咖啡厅 一眼就看见了 坐在窗边的人"
    assert character_tally(reference, heard, "zh") == Tally(0, 20)


def test_a_homophone_is_a_character_error_but_no_syllable_error():
    # 相亲 (a blind date) heard as 乡亲 (fellow villagers): both xiāng qīn.
    assert character_tally("相亲对象", "乡亲对象", "zh") == Tally(1, 4)
    assert syllable_tally("相亲对象", "乡亲对象", tones=True) == Tally(0, 4)
    assert syllable_tally("相亲对象", "乡亲对象", tones=False) == Tally(0, 4)
    assert syllable_tally("她看见了", "他看见了", tones=True).rate == 0.0


def test_a_wrong_tone_counts_with_tones_and_not_without():
    # 他 tā heard as 塔 tǎ: the syllable is right, its tone is not.
    assert syllables("他看见了", tones=True) == ["ta1", "kan4", "jian4", "le5"]
    assert syllables("他看见了", tones=False) == ["ta", "kan", "jian", "le"]
    assert character_tally("他看见了", "塔看见了", "zh") == Tally(1, 4)
    assert syllable_tally("他看见了", "塔看见了", tones=True) == Tally(1, 4)
    assert syllable_tally("他看见了", "塔看见了", tones=False) == Tally(0, 4)


def test_traditional_characters_are_the_same_words():
    assert normalise("車小小走進咖啡廳，頭髮", "zh") == "车小小走进咖啡厅头发"
    assert character_tally("车小小走进咖啡厅", "車小小走進咖啡廳", "zh").edits == 0
    assert syllable_tally("车小小走进咖啡厅", "車小小走進咖啡廳", tones=True).edits == 0


def test_a_latin_word_inside_chinese_is_one_unit():
    assert syllables("她拿出iPhone手机", tones=True) == ["ta1", "na2", "chu1", "iphone", "shou3",
                                                      "ji1"]
    assert syllable_tally("她拿出iPhone手机", "她拿出手机", tones=True) == Tally(1, 6)


def test_a_missing_syllable_and_an_extra_one_are_one_edit_each():
    assert syllable_tally("楚昊轩", "楚轩", tones=False) == Tally(1, 3)
    assert syllable_tally("楚昊轩", "楚昊轩啊", tones=False) == Tally(1, 3)


def test_the_rate_of_several_sentences_weighs_them_by_length():
    english = character_tally("she walks", "she walk", "en")  # one letter of 9 lost
    assert english == Tally(1, 9)
    total = english + character_tally("ab", "xy", "en")
    assert (total.edits, total.units) == (3, 11)
    assert total.rate == pytest.approx(3 / 11)
    assert Tally().rate == 0.0
