"""Narrative focus and style change the narration (offline and in the Gemini prompts), and
pacing follows the request's speaking_rate and overflow_tolerance, on the real blueprint."""

from __future__ import annotations

import itertools
import math
import re
from statistics import mean

import pytest

from tests.support.fakes import ScriptedLlm
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.language import speech_units, split_sentences
from vss.domain.payloads import ControlParams, NarrationServiceParams, NarrativeFocus, Style
from vss.domain.usage import Usage
from vss.narration.compose import narrate
from vss.narration.focus import REVEALS, read_focus
from vss.narration.llm_writer import Draft, DraftSnippet, Rewrite, Rewrites
from vss.narration.voice import VOICES
from vss.ports import LlmResult

FOCI = [f for f in NarrativeFocus if f not in (NarrativeFocus.GENERAL, NarrativeFocus.CUSTOM)]


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


def params(minutes: float = 3, speaking_rate: float | None = None, tolerance: float = 0.0,
           **control: object) -> NarrationServiceParams:
    return NarrationServiceParams.model_validate({
        "lang": "zh", "speaking_rate": speaking_rate, "overflow_tolerance": tolerance,
        "control_params": {"target_duration_minutes": minutes, **control}})


def cited(script) -> set[int]:
    return {i for s in script.narration_script for i in s.source_scene_ids}


# -- focus -------------------------------------------------------------------------------------


def test_two_focus_values_select_measurably_different_scenes(blueprint):
    romance = cited(narrate(blueprint, params(narrative_focus="romantic_progression",
                                              style="objective"), None))
    revenge = cited(narrate(blueprint, params(narrative_focus="revenge_plot",
                                              style="objective"), None))
    overlap = len(romance & revenge) / len(romance | revenge)
    assert overlap < 0.4, (sorted(romance), sorted(revenge))
    # Each dwells on the scenes its own lens finds relevant, more than the other does.
    loves = read_focus(blueprint, ControlParams(narrative_focus="romantic_progression"), "zh")
    fights = read_focus(blueprint, ControlParams(narrative_focus="revenge_plot"), "zh")
    assert mean(loves.relevance[i] for i in romance) > \
        mean(loves.relevance[i] for i in revenge) + 0.1
    assert mean(fights.relevance[i] for i in revenge) > \
        mean(fights.relevance[i] for i in romance) + 0.1


@pytest.mark.parametrize("focus", FOCI)
def test_every_focus_favours_its_scenes_over_the_general_narration(blueprint, focus):
    lens = read_focus(blueprint, ControlParams(narrative_focus=focus), "zh")
    general = cited(narrate(blueprint, params(style="objective"), None))
    focused = cited(narrate(blueprint, params(narrative_focus=focus, style="objective"), None))
    assert mean(lens.relevance[i] for i in focused) > mean(lens.relevance[i] for i in general)


def test_romance_follows_the_couple_the_dataset_shows(blueprint):
    lens = read_focus(blueprint, ControlParams(narrative_focus="romantic_progression"), "zh")
    assert set(lens.cast) == {"车小小", "楚昊轩"}
    chosen = read_focus(blueprint, ControlParams(
        narrative_focus="romantic_progression",
        character_focus={"mode": "specific", "characters": ["宋安娜"]}), "zh")
    assert "宋安娜" in chosen.cast and len(chosen.cast) == 2


def test_suspense_reveal_withholds_what_reveals_until_the_end_of_a_snippet(blueprint):
    script = narrate(blueprint, params(minutes=5, narrative_focus="suspense_reveal",
                                       style="objective"), None)
    reveal = re.compile("|".join(REVEALS["zh"]))
    mixed = 0
    for snippet in script.narration_script:
        flags = [bool(reveal.search(s)) for s in split_sentences(snippet.narration, "zh")]
        assert flags == sorted(flags), snippet.narration  # no plain sentence after a reveal
        mixed += any(flags) and not all(flags)
    assert mixed >= 2


def test_a_custom_focus_is_approximated_by_its_words_and_says_so(blueprint):
    script = narrate(blueprint, params(narrative_focus="custom", custom_prompts={
        "narrative_focus": "爷爷催婚，逼着孙子去相亲结婚"}), None)
    note = next(n for n in script.notes if "custom narrative_focus" in n)
    assert all(word in note for word in ("爷爷", "相亲", "结婚"))
    assert "催婚" not in note  # a word the dataset never uses cannot select anything


def test_custom_prompts_for_a_knob_that_is_not_custom_are_noted_offline(blueprint):
    script = narrate(blueprint, params(style="serious", custom_prompts={
        "style": "像脱口秀一样吐槽"}), None)
    assert "custom_prompts.style is followed only by the Gemini writer" in script.notes


# -- style -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def by_style(blueprint) -> dict[Style, list[str]]:
    return {style: [s.narration for s in narrate(blueprint, params(minutes=5,
                                                                   style=style), None)
                    .narration_script] for style in VOICES}


def test_every_style_writes_a_different_narration(by_style):
    texts = {style: "".join(snippets) for style, snippets in by_style.items()}
    assert len(set(texts.values())) == len(texts)


@pytest.mark.parametrize("style", list(VOICES))
def test_a_style_is_no_repeated_filler(by_style, style):
    snippets = by_style[style]
    bank = VOICES[style].connectives.get("zh", ())
    openers = [next((p for p in bank if s.startswith(p)), None) for s in snippets]
    for phrase in bank:  # each connective in at most a quarter of the snippets
        assert sum(phrase in s for s in snippets) <= math.ceil(len(snippets) / 4), phrase
    assert not any(a is not None and a == b for a, b in itertools.pairwise(openers))
    template = VOICES[style].quote.get("zh", ("",))[0]
    if template and template != "{speaker}说：“{line}”":
        # The style's way of quoting alternates with the plain one.
        pattern = re.escape(template).replace(re.escape("{speaker}"), r"[^，。！？“”]{1,8}?") \
            .replace(re.escape("{line}"), "[^”]*")
        framed = sum(len(re.findall(pattern, s)) for s in snippets)
        quoted = sum(s.count("：“") for s in snippets)
        assert 0 < framed <= quoted - framed + 1


def test_each_style_sounds_like_itself(by_style, blueprint):
    humorous = "".join(by_style[Style.HUMOROUS])
    assert "张口就来：“" in humorous and "，结果" in humorous  # frame, and a contrast word
    for calm in (Style.SERIOUS, Style.HEALING):
        narrated = re.sub(r"“[^”]*”", "", "".join(by_style[calm]))  # quoted lines aside
        assert "！" not in narrated
    suspense = by_style[Style.SUSPENSE]
    teasers = [s for s in suspense if re.search(r"(接下来会怎么做|又会是什么)？$", s)]
    assert teasers
    speakers = {d.speaker for s in blueprint.scenes.values() for d in s.dialogues}
    for teaser in teasers:  # it names a character of the story, never an invented one
        name = re.search(r"([^。！？，”]+?)(?:接下来会怎么做|的，又会是什么)？$", teaser)
        assert name and name.group(1).removeprefix("等待") in speakers
    objective = "".join(by_style[Style.OBJECTIVE])
    assert "张口就来" not in objective and "就在这时，" not in objective


# -- Gemini prompts ----------------------------------------------------------------------------


def _drafting(system: str, prompt: str, schema: type) -> LlmResult:
    if schema is Rewrites:
        items = re.findall(r"- index (\d+), at most (\d+)", prompt)
        answer: Draft | Rewrites = Rewrites(items=[Rewrite(index=int(i), narration="短。")
                                                   for i, _ in items])
    else:
        found = re.findall(r"- snippet (\d+): budget (\d+)", prompt)
        answer = Draft(snippets=[DraftSnippet(index=int(i), narration="剧情" * int(b) + "。")
                                 for i, b in found])  # twice too long: a rewrite follows
    return LlmResult(answer, answer.model_dump_json(), Usage(llm_calls=1))


@pytest.mark.parametrize("style", list(Style))
def test_each_style_has_its_prompt_in_the_draft_and_the_rewrite(blueprint, style):
    custom = {"custom_prompts": {"style": "像脱口秀一样吐槽"}} if style == Style.CUSTOM else {}
    llm = ScriptedLlm(_drafting)
    narrate(blueprint, params(minutes=1, style=style, **custom), llm)
    voice = {Style.HUMOROUS: "Humorous:", Style.SERIOUS: "Serious:",
             Style.SUSPENSE: "Suspense:", Style.SARCASTIC: "Sarcastic:",
             Style.EMOTIONAL: "Emotional:", Style.HEALING: "Healing (治愈):",
             Style.OBJECTIVE: "Objective:",
             Style.CUSTOM: "As the editor describes it: 像脱口秀一样吐槽"}[style]
    kinds = [schema for _, _, schema in llm.prompts]
    assert kinds[0] == "Draft" and "Rewrites" in kinds
    assert all(voice in prompt for _, prompt, _ in llm.prompts)


def test_the_focus_prompt_names_the_couple_and_marks_their_scenes(blueprint):
    llm = ScriptedLlm(_drafting)
    narrate(blueprint, params(minutes=2, narrative_focus="romantic_progression"), llm)
    _, prompt, _ = llm.prompts[0]
    assert re.search("relationship between (车小小 and 楚昊轩|楚昊轩 and 车小小)", prompt)
    lens = read_focus(blueprint, ControlParams(narrative_focus="romantic_progression"), "zh")
    marked = {int(i) for i in re.findall(r"scene (\d+) \([^)]*\) \[focus\]", prompt)}
    assert marked and marked <= lens.singled_out()


def test_a_custom_focus_is_the_editors_instruction_for_gemini(blueprint):
    llm = ScriptedLlm(_drafting)
    narrate(blueprint, params(minutes=1, narrative_focus="custom", custom_prompts={
        "narrative_focus": "只讲爷爷催婚"}), llm)
    _, prompt, _ = llm.prompts[0]
    assert "Focus. As the editor describes it: 只讲爷爷催婚" in prompt
    assert "Editor's instruction" not in prompt  # said once, as the focus


# -- pacing: speaking_rate and overflow_tolerance ----------------------------------------------


def test_estimated_durations_follow_the_requested_speaking_rate(blueprint):
    scripts = {rate: narrate(blueprint, params(speaking_rate=rate), None)
               for rate in (3.0, 4.2, 6.0)}
    written = {rate: sum(speech_units(s.narration, "zh") for s in script.narration_script)
               for rate, script in scripts.items()}
    assert written[3.0] < written[4.2] < written[6.0]  # a faster voice says more
    for rate, script in scripts.items():
        for snippet in script.narration_script:
            assert snippet.pacing is not None and snippet.pacing.speech_rate == rate
            assert snippet.pacing.estimated_seconds == pytest.approx(
                speech_units(snippet.narration, "zh") / rate, abs=1e-3)
            assert snippet.pacing.estimated_seconds <= snippet.pacing.budget_seconds


def test_overflow_tolerance_narrows_or_widens_every_slot(blueprint):
    scripts = {t: narrate(blueprint, params(tolerance=t, style="objective"), None)
               for t in (-0.15, 0.0, 0.15)}
    slots = {t: [s.pacing.slot_seconds for s in script.narration_script if s.pacing]
             for t, script in scripts.items()}
    assert slots[-0.15] == slots[0.0] == slots[0.15]  # the same footage, the same slots
    for t, script in scripts.items():
        for snippet in script.narration_script:
            pacing = snippet.pacing
            assert pacing is not None and pacing.slot_seconds is not None
            assert pacing.budget_seconds == pytest.approx(pacing.slot_seconds * (1 + t),
                                                          abs=1e-3)
            assert pacing.estimated_seconds <= pacing.budget_seconds
    totals = {t: script.estimated_duration_seconds for t, script in scripts.items()}
    assert totals[-0.15] < totals[0.0] < totals[0.15]
    assert totals[-0.15] <= 0.85 * 3 * 60
    # +0.15 may run past the footage under a snippet, never by more than 15% of its slot.
    assert any(s.pacing.estimated_seconds > s.pacing.slot_seconds
               for s in scripts[0.15].narration_script if s.pacing)
