"""Language profiles: counting, detection, sentences, the registry, and the one Han definition."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

import vss
from vss.config import Settings
from vss.domain.language import (
    CHINESE,
    ENGLISH,
    FRENCH,
    LANGUAGES,
    SpeechRate,
    UnknownLanguage,
    estimate_tokens,
    has_han,
    is_cjk,
    is_han,
    language_profile,
    speech_units,
    split_sentences,
    text_language,
    unquoted,
    written_in,
)

PACKAGE = Path(vss.__file__).parent
PROFILE_MODULE = PACKAGE / "domain" / "language.py"


@pytest.mark.parametrize(("text", "lang", "units"), [
    ("他来了。", "zh", 3),
    ("iPhone15发布了，售价999元。", "zh", 8),  # a Latin run or a number is one unit
    ("Li Lei met 韩梅梅 at 3pm.", "en", 8),  # each hanzi is one unit
    ("Don't stop, it's well-known.", "en", 4),  # joined across an apostrophe or hyphen
    ("The café is déjà vu.", "en", 5),  # accented letters are part of a word
    ("，。！？……「」 ,.!? ", "zh", 0),  # marks and spaces are pauses, not units
    ("，。！？……「」 ,.!? ", "en", 0),
])
def test_speech_units_count_what_is_spoken(text, lang, units):
    assert speech_units(text, lang) == units


@pytest.mark.parametrize(("text", "lang"), [
    ("今天天气很好。", "zh"),
    ("OK，我们走吧", "zh"),  # 4 hanzi of 7 characters
    ("The weather is fine.", "en"),
    ("Li Lei 和 Han Meimei", "en"),  # 1 hanzi of 17 characters
    ("", "en"),
])
def test_a_text_is_chinese_when_most_of_it_is_hanzi(text, lang):
    assert text_language(text) == lang


@pytest.mark.parametrize(("text", "lang", "sentences"), [
    ("他来了。她走了！真的吗？“好。”", "zh", ["他来了。", "她走了！", "真的吗？", "“好。”"]),
    ("他愣住了……然后走了。", "zh", ["他愣住了……", "然后走了。"]),  # an ellipsis ends it
    ("第3.5集很好。", "zh", ["第3.5集很好。"]),  # a full stop in a number does not
    ('He left. "Why?" she asked! Wait… what?', "en",
     ["He left.", '"Why?"', "she asked!", "Wait… what?"]),  # an ellipsis runs on
    ("  ", "en", []),
])
def test_sentences_split_at_their_languages_ends(text, lang, sentences):
    assert split_sentences(text, lang) == sentences


def test_without_a_language_any_hanzi_means_chinese_marks():
    assert split_sentences("iPhone 15发布了。It sells.") == ["iPhone 15发布了。", "It sells."]
    assert split_sentences("Wait… what? Fine.") == ["Wait… what?", "Fine."]


def test_an_unknown_language_is_a_clear_error():
    with pytest.raises(UnknownLanguage, match=r"no language profile for 'de'; known: en, "):
        language_profile("de")
    with pytest.raises(ValueError, match="'de'"):
        speech_units("Guten Tag", "de")
    with pytest.raises(ValueError, match="'de'"):
        split_sentences("Guten Tag.", "de")
    with pytest.raises(ValueError, match="'de'"):
        SpeechRate().units_per_second("de")


def test_the_registry_is_keyed_by_code():
    assert all(code == profile.code for code, profile in LANGUAGES.items())
    assert language_profile("zh") is CHINESE and language_profile("en") is ENGLISH
    assert (CHINESE.joiner, ENGLISH.joiner) == ("", " ")
    with pytest.raises(TypeError):
        LANGUAGES["xx"] = CHINESE  # type: ignore[index]


@pytest.mark.parametrize("change", [
    {"units_per_second": 0},
    {"full_stop": "。"},  # not one of its sentence ends
    {"closing_quotes": "」"},  # closes no English quote pair
])
def test_a_profile_that_contradicts_itself_is_refused(change):
    with pytest.raises(ValueError, match="en: "):
        replace(ENGLISH, **change)


def test_speech_rates_default_to_the_profiles_and_settings_override_them():
    assert SpeechRate().units_per_second("zh") == CHINESE.units_per_second == 4.5
    assert SpeechRate().units_per_second("en") == ENGLISH.units_per_second == 2.5
    assert SpeechRate().units_per_second("fr") == FRENCH.units_per_second == 2.6
    settings = Settings()
    assert (settings.zh_chars_per_second, settings.en_words_per_second,
            settings.fr_words_per_second) == (4.5, 2.5, 2.6)
    # A request's speaking_rate replaces one language's rate and leaves the others.
    rate = SpeechRate(6.0, 3.0).with_rate("zh", 4.2)
    assert [rate.units_per_second(lang) for lang in ("zh", "en", "fr")] == [4.2, 3.0, 2.6]


def test_han_is_narrower_than_cjk():
    assert is_han("汉") and is_cjk("汉")
    assert not is_han("，") and is_cjk("，")  # fullwidth punctuation
    assert not is_han("か") and is_cjk("か")  # kana
    assert not is_cjk("한")  # Korean puts spaces between words
    assert not is_han("a") and not is_cjk("a")
    assert has_han("Li Lei 和") and not has_han("Li Lei，")


def test_token_estimate_counts_hanzi_as_a_token_each():
    assert estimate_tokens("你好世界") == 5
    assert estimate_tokens("abcdefgh") == 3
    assert estimate_tokens("") == 1


# -- the one definition -------------------------------------------------------------------------

# How a module would define a Han or CJK range of its own: a \u escape of a range bound, the
# code point as a number, or a range of literal characters in a regex class.
_RANGE_BOUNDS = "2e80|3000|3400|4dbf|4e00|9fa5|9fff|f900|faff|ff00|ffef"
_OWN_RANGE = re.compile(
    rf"\\u(?:{_RANGE_BOUNDS})|\\U0002[0-9a-f]{{4}}|0x0*(?:{_RANGE_BOUNDS})\b"
    r"|\b(?:11904|12288|13312|19903|19968|40869|40959|63744|65280)\b"
    "|[\u2e80\u3000\u3400\u4e00\uf900\uff00]-[\u303f\u4dbf\u9fa5\u9fff\ufaff\uffef]",
    re.IGNORECASE)


def _defines_a_range(path: Path) -> bool:
    return _OWN_RANGE.search(path.read_text(encoding="utf-8")) is not None


def test_only_the_profile_module_defines_what_a_han_character_is():
    assert _defines_a_range(PROFILE_MODULE)  # the check finds a definition where there is one
    others = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                    if p != PROFILE_MODULE and _defines_a_range(p))
    assert others == [], "use vss.domain.language (HAN_CLASS, is_han, is_cjk) instead"


def test_the_profile_module_needs_only_the_standard_library():
    tree = ast.parse(PROFILE_MODULE.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom)}
    assert imported <= sys.stdlib_module_names


# -- French ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "units"), [
    ("L'homme entre dans l'école.", 4),  # an elided article is one word with its noun
    ("Aujourd'hui, c'est décidé.", 3),
    ("« Bonjour », dit-il.", 2),  # marks are pauses; dit-il is joined by its hyphen
])
def test_french_is_counted_in_words(text, units):
    assert speech_units(text, "fr") == units


@pytest.mark.parametrize(("text", "lang"), [
    ("Elle ne le sait pas encore, mais le président attend dans la voiture.", "fr"),
    ("She does not know it yet, but the president waits in the car.", "en"),
    ("Che Xiaoxiao rit.", "en"),  # no common word of either: English, as before French
    ("车小小笑了。", "zh"),
])
def test_french_is_told_from_english_by_its_common_words(text, lang):
    assert text_language(text) == lang


def test_written_in_accepts_a_short_line_and_refuses_another_languages_text():
    assert written_in("Che Xiaoxiao rit.", "fr") and written_in("Che Xiaoxiao rit.", "en")
    assert not written_in("The story moves on and nobody knows.", "fr")
    assert not written_in("Elle ne le sait pas.", "en")
    assert not written_in("车小小笑了。", "fr") and written_in("车小小笑了。", "zh")


def test_french_sentences_keep_their_guillemets():
    assert split_sentences("« Tu viens ? » Il part. Fin !", "fr") == [
        "« Tu viens ? »", "Il part.", "Fin !"]
    assert unquoted("« Bonjour. » dit-il.") == "« Bonjour. » dit-il."  # not wholly quoted
    assert unquoted("« Bonjour. »") == "Bonjour."
    assert unquoted("“「好。」”") == "好。"
