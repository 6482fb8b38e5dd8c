"""LOCALIZE_NARRATION's core on the real blueprint: glossary, translation, pacing to the same
slots, and what happens without a model (a scripted StructuredLlm stands in for Gemini)."""

from __future__ import annotations

import json

import pytest

from tests.support.fakes import ScriptedLlm
from tests.support.paths import DATA
from tests.support.translation import RENDERING, item_units, rendering, translator
from vss.domain.artifacts import NarrationScript
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.language import SpeechRate
from vss.domain.payloads import LocalizationServiceParams, NarrationServiceParams
from vss.domain.usage import Usage
from vss.errors import LlmError, PayloadInvalid
from vss.narration.compose import narrate
from vss.narration.localize import localize
from vss.narration.pacing import speech_seconds
from vss.narration.translate import Glossary, Translated, Translation, glossary_terms
from vss.ports import LlmResult


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


@pytest.fixture(scope="module")
def master(blueprint: Dataset) -> NarrationScript:
    params = NarrationServiceParams.model_validate(
        {"lang": "zh", "speaking_rate": 4.2, "control_params": {
            "target_duration_minutes": 3, "style": "suspense"}})
    return narrate(blueprint, params, None)


def service(target: str = "en", **fields: object) -> LocalizationServiceParams:
    return LocalizationServiceParams.model_validate(
        {"lang": "zh", "target_lang": target, **fields})


def test_without_a_model_translation_fails_with_what_to_configure(blueprint, master):
    with pytest.raises(LlmError) as caught:
        localize(master, blueprint, service("en"), None)
    assert caught.value.code == LlmError.code == 3002
    assert "VSS_GEMINI_API_KEY" in caught.value.message
    assert caught.value.details["configure"] == ["VSS_GEMINI_API_KEY",
                                                 "VSS_GEMINI_VERTEX_PROJECT"]


def test_a_translation_keeps_scenes_and_slots_and_fits_the_target_rate(blueprint, master):
    llm = ScriptedLlm(translator(lambda index: 1.3 if index % 3 == 0 else 0.8))
    script = localize(master, blueprint, service("en", speaking_rate=2.5,
                                                 overflow_tolerance=-0.15), llm)
    assert (script.lang, script.source_lang, script.engine) == ("en", "zh", "scripted")
    assert len(script.narration_script) == len(master.narration_script)
    rate = SpeechRate(en_words_per_second=2.5)
    for ours, theirs in zip(script.narration_script, master.narration_script, strict=True):
        assert ours.source_scene_ids == theirs.source_scene_ids
        assert ours.source_narration == theirs.narration
        assert ours.pacing is not None and theirs.pacing is not None
        # The same slot as the master's, narrowed by 15%, spoken at 2.5 words per second.
        assert ours.pacing.slot_seconds == theirs.pacing.slot_seconds
        assert ours.pacing.budget_seconds == pytest.approx(
            theirs.pacing.slot_seconds * 0.85, abs=1e-3)
        assert ours.pacing.speech_rate == 2.5
        assert speech_seconds(ours.narration, "en", rate) <= ours.pacing.budget_seconds
    actions = [s.pacing.action for s in script.narration_script if s.pacing]
    assert "rewritten" in actions and "fits" in actions
    assert [p[2] for p in llm.prompts] == ["Glossary", "Translation", "Rewrites"]


def test_names_are_rendered_the_same_in_every_snippet(blueprint, master):
    llm = ScriptedLlm(translator())
    script = localize(master, blueprint, service("en"), llm)
    assert script.glossary
    renderings = {e.source: e.target for e in script.glossary}
    assert renderings["车小小"] == rendering("车小小")
    assert "海晏集团" in renderings  # an organisation the captions name
    for snippet in script.narration_script:
        for source, target in renderings.items():
            if source in (snippet.source_narration or ""):
                assert target in snippet.narration
    _, glossary_prompt, _ = llm.prompts[0]
    assert "- 车小小" in glossary_prompt and "pinyin" in glossary_prompt
    _, translate_prompt, _ = llm.prompts[1]
    assert f"车小小 → {rendering('车小小')}" in translate_prompt
    assert "Suspense: a narrator who builds tension" in translate_prompt  # the master's style


def test_glossary_terms_are_the_datasets_names_the_script_uses(blueprint):
    terms = glossary_terms(blueprint, ["车小小和楚昊轩在海晏集团见面。"])
    assert set(terms) == {"车小小", "楚昊轩", "海晏集团"}


def test_a_translation_without_the_glossary_names_is_asked_for_again(blueprint, master):
    calls = []

    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        calls.append(schema.__name__)
        if schema is Translation and calls.count("Translation") == 1:
            answer = translator()(system, prompt, schema).parsed
            assert isinstance(answer, Translation)
            for item in answer.items:  # the first answer forgets every name
                item.narration = "The story moves on and nobody knows why."
            return LlmResult(answer, "", Usage(llm_calls=1))
        return translator()(system, prompt, schema)

    llm = ScriptedLlm(respond)
    script = localize(master, blueprint, service("en"), llm)
    retry = [p for _, p, s in llm.prompts if s == "Translation"][1]
    assert "did not use the renderings above" in retry
    asked_again = {i for i, _, _ in item_units(retry)}
    with_names = {i for i, s in enumerate(master.narration_script)
                  if any(source in s.narration for source, _ in RENDERING.findall(retry))}
    assert asked_again == with_names
    assert not any("glossary rendering" in n for n in script.notes)


def test_text_in_the_wrong_language_is_never_used(blueprint, master):
    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        if schema is Translation:  # answers in Chinese, twice
            answer = Translation(items=[Translated(index=i, narration="还是中文。")
                                        for i, _, _ in item_units(prompt)])
            return LlmResult(answer, "", Usage(llm_calls=1))
        return translator()(system, prompt, schema)

    with pytest.raises(LlmError, match="no usable en narration"):
        localize(master, blueprint, service("en"), ScriptedLlm(respond))


def test_french_is_written_and_paced_in_french_words(blueprint, master):
    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        if schema is Translation:
            answer = Translation(items=[
                Translated(index=i, narration="Elle ne le sait pas encore.")
                for i, _, _ in item_units(prompt)])
            return LlmResult(answer, "", Usage(llm_calls=1))
        if schema is Glossary:
            return LlmResult(Glossary(entries=[]), "", Usage(llm_calls=1))
        raise AssertionError(schema)

    llm = ScriptedLlm(respond)
    script = localize(master, blueprint, service("fr"), llm)
    assert script.lang == "fr" and len(script.narration_script) == len(master.narration_script)
    assert {s.pacing.speech_rate for s in script.narration_script if s.pacing} == {2.6}
    system, prompt, _ = llm.prompts[1]
    assert "into French" in system
    # Each snippet's budget is its slot at 2.6 French words per second.
    asked = {i: units for i, units, _ in item_units(prompt)}
    assert asked == {i: int(s.pacing.slot_seconds * 2.6)
                     for i, s in enumerate(master.narration_script) if s.pacing}
    # English where French was asked for is no French narration.
    with pytest.raises(LlmError, match="no usable fr narration"):
        localize(master, blueprint, service("fr"), ScriptedLlm(translator()))


def test_the_same_language_is_only_re_paced(blueprint, master):
    slower = localize(master, blueprint, service("zh", speaking_rate=3.0,
                                                 overflow_tolerance=-0.15), None)
    assert slower.engine == "unchanged" and slower.glossary is None
    assert any("re-paced only" in n for n in slower.notes)
    for ours, theirs in zip(slower.narration_script, master.narration_script, strict=True):
        assert ours.pacing is not None
        assert ours.narration == theirs.narration or ours.pacing.action == "cut"
        assert theirs.narration.startswith(ours.narration.rstrip("。！？…"))
        assert speech_seconds(ours.narration, "zh", SpeechRate(3.0)) <= \
            ours.pacing.budget_seconds
    assert any(s.pacing and s.pacing.action == "cut" for s in slower.narration_script)


def test_a_seed_script_without_pacing_takes_its_scenes_as_slots(blueprint):
    seed = NarrationScript.model_validate(json.loads(
        (DATA / "upstream_narration_script_example.json").read_text("utf-8")))
    # The seed's example narrates another story; give it this dataset's first scenes.
    first = seed.narration_script[:2]
    for number, snippet in enumerate(first, start=1):
        snippet.source_scene_ids = [number]
    seed = seed.model_copy(update={"narration_script": first})
    script = localize(seed, blueprint, service("zh"), None)
    for number, snippet in enumerate(script.narration_script, start=1):
        assert snippet.pacing is not None
        assert snippet.pacing.slot_seconds == round(blueprint.scenes[number].duration, 3)
        assert snippet.pacing.action == "cut"  # the seed's 400-character snippets did not fit


def test_a_master_in_another_language_or_with_unknown_scenes_is_refused(blueprint, master):
    with pytest.raises(PayloadInvalid) as caught:
        localize(master, blueprint, service("en", lang="en"), ScriptedLlm(translator()))
    assert caught.value.details["errors"][0]["pointer"] == "/payload/service_params/lang"
    broken = master.model_copy(deep=True)
    broken.narration_script[1].source_scene_ids = [999]
    with pytest.raises(PayloadInvalid) as caught:
        localize(broken, blueprint, service("en"), ScriptedLlm(translator()))
    assert caught.value.details["errors"][0]["pointer"] == "/narration_script/1/source_scene_ids"
