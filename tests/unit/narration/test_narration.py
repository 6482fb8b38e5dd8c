"""Narration: scope, focus, perspective, pacing and the writers, without any network."""

from __future__ import annotations

import re

import pytest

from tests.support.fakes import ScriptedLlm, model_call
from tests.support.paths import DATA
from tests.support.synthetic import synthetic_blueprint
from vss.domain.dataset import Dataset, NarrativeFunction, parse_dataset
from vss.domain.payloads import ControlParams, NarrationServiceParams
from vss.domain.usage import Usage
from vss.errors import LlmError, PayloadInvalid
from vss.handler_config import NarrationConfig
from vss.narration.compose import narrate
from vss.narration.llm_writer import (
    Draft,
    DraftSnippet,
    Rewrite,
    Rewrites,
    estimate_tokens,
    focus_rule,
    style_rule,
)
from vss.narration.pacing import cut_to_budget, speech_seconds
from vss.narration.prompts import render
from vss.narration.scope import mentions
from vss.ports import LlmResult

SMALL = DATA / "narrative_dataset_small.json"


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


def params(**control: object) -> NarrationServiceParams:
    lang = control.pop("lang", "zh")
    return NarrationServiceParams.model_validate({"lang": lang, "control_params": control})


def _assert_paced(script, dataset: Dataset, lang: str = "zh") -> None:
    for snippet in script.narration_script:
        pacing = snippet.pacing
        assert pacing is not None
        assert speech_seconds(snippet.narration, lang) <= pacing.budget_seconds + 1e-9
        assert pacing.budget_seconds <= pacing.footage_seconds + 1e-9
        assert set(snippet.source_scene_ids) <= set(dataset.scenes)
        assert not re.search(r"[()（）\[\]【】*#]", snippet.narration)


@pytest.mark.parametrize("minutes", [1, 3, 10])
def test_offline_writer_fits_every_budget_on_the_real_blueprint(blueprint, minutes):
    script = narrate(blueprint, params(target_duration_minutes=minutes), None)
    _assert_paced(script, blueprint)
    assert script.engine == "offline" and "no Gemini credentials" in script.notes[0]
    assert script.estimated_duration_seconds <= minutes * 60 + 1e-6
    assert script.estimated_duration_seconds >= minutes * 60 * 0.6  # it uses its time
    cited = [i for s in script.narration_script for i in s.source_scene_ids]
    assert len(cited) == len(set(cited))


def test_episode_range_scope_filters_scenes(blueprint):
    script = narrate(blueprint, params(scope={"type": "episode_range", "value": [3, 5]}), None)
    chapters = {blueprint.scenes[i].chapter_id for s in script.narration_script
                for i in s.source_scene_ids}
    assert chapters <= {3, 4, 5} and len(chapters) >= 2


def test_scene_selection_scope_accepts_ranges(blueprint):
    script = narrate(blueprint, params(scope={"type": "scene_selection", "value": "10-12,20"}),
                     None)
    cited = {i for s in script.narration_script for i in s.source_scene_ids}
    assert cited <= {10, 11, 12, 20} and cited


def test_huge_ranges_are_bounds_not_lists(blueprint):
    # Expanded, these would be billions of ids; as bounds they cost nothing.
    wide = narrate(blueprint, params(scope={"type": "episode_range", "value": "1-2000000000"}),
                   None)
    assert wide.narration_script
    with pytest.raises(PayloadInvalid) as caught:
        narrate(blueprint, params(scope={"type": "scene_selection", "value": "60-2000000000"}),
                None)
    assert "[64, 65, 66, 67, 68, 69, 70, 71, 72, 73]" in caught.value.details["errors"][0][
        "reason"]


@pytest.mark.parametrize("scope", [
    {"type": "scene_selection", "value": [1, 999]},
    {"type": "episode_range", "value": [40, 50]},
    {"type": "episode_range", "value": [5, 2]},
    {"type": "scene_selection", "value": {"oops": 1}},
    {"type": "scene_selection", "value": "12-10"},
])
def test_bad_scope_is_rejected_with_its_pointer(blueprint, scope):
    with pytest.raises(PayloadInvalid) as caught:
        narrate(blueprint, params(scope=scope), None)
    assert caught.value.details["errors"][0]["pointer"].endswith("/control_params/scope")


def test_character_focus_only_keeps_their_scenes(blueprint):
    script = narrate(blueprint, params(character_focus={"mode": "only",
                                                        "characters": ["陆乘风"]}), None)
    for snippet in script.narration_script:
        assert all(mentions(blueprint.scenes[i], "陆乘风") for i in snippet.source_scene_ids)


def test_first_person_speaks_as_the_character(blueprint):
    script = narrate(blueprint, params(perspective="first_person",
                                       perspective_character="车小小"), None)
    text = "".join(s.narration for s in script.narration_script)
    assert "车小小" not in text and text.count("我") > 10


def test_characters_the_dataset_does_not_have_are_named_in_the_error(blueprint):
    with pytest.raises(PayloadInvalid) as caught:
        narrate(blueprint, params(perspective="first_person", perspective_character="车晓晓",
                                  character_focus={"mode": "focus",
                                                   "characters": ["楚昊轩", "Nobody"]}), None)
    errors = caught.value.details["errors"]
    assert [e["pointer"].rsplit("control_params", 1)[1] for e in errors] == [
        "/perspective_character", "/character_focus/characters/1"]
    assert "车小小" in errors[0]["reason"]  # the hint lists who does speak


def test_first_person_without_a_character_is_a_payload_error():
    with pytest.raises(ValueError, match="perspective_character"):
        params(perspective="first_person")


def test_flashbacks_are_kept_and_announced(blueprint):
    script = narrate(blueprint, params(target_duration_minutes=40), None)
    flashbacks = [s for s in script.narration_script if s.narrative_function == "FLASHBACK"]
    assert flashbacks and all(s.narration.startswith(("三个小时前", "时间回到"))
                              for s in flashbacks[:1])
    assert {n.narrative_function for n in blueprint.storyline} >= {NarrativeFunction.FLASHBACK}


def test_style_changes_the_offline_wording(blueprint):
    plain = narrate(blueprint, params(style="neutral"), None)
    funny = narrate(blueprint, params(style="humorous"), None)
    assert [s.narration for s in plain.narration_script] != \
        [s.narration for s in funny.narration_script]


def test_english_dataset_in_english(blueprint):
    dataset = parse_dataset(SMALL.read_bytes())
    script = narrate(dataset, params(lang="en", target_duration_minutes=1), None)
    _assert_paced(script, dataset, "en")
    assert re.search(r"[A-Za-z]{3,}", script.narration_script[0].narration)
    assert not any("cannot translate" in n for n in script.notes)


def test_offline_writer_says_it_cannot_translate(blueprint):
    script = narrate(blueprint, params(lang="en", target_duration_minutes=1), None)
    assert any("cannot translate" in n for n in script.notes)
    # Chinese text is paced, and will be voiced, as Chinese: no English filler mixed in.
    assert script.lang == "zh"
    assert {s.pacing.speech_rate for s in script.narration_script if s.pacing} == {4.5}
    assert not any(re.search(r"[A-Za-z]{3,}", s.narration) for s in script.narration_script)
    _assert_paced(script, blueprint, "zh")


def test_cut_keeps_whole_sentences_then_clauses():
    text = "第一句很短。第二句稍微长一点点。第三句会超出预算很多很多很多。"
    assert cut_to_budget(text, 14 / 4.5, "zh") == "第一句很短。第二句稍微长一点点。"
    assert cut_to_budget("一二三四五六七八，九十。", 2, "zh") == "一二三四五六七八。"
    assert cut_to_budget("One two three. Four five six seven.", 1.6, "en") == "One two three."


# --- the model-driven writer, through a scripted StructuredLlm --------------------------------

def _indices(prompt: str) -> list[tuple[int, int, list[int]]]:
    """(index, budget units, scene ids) of each snippet the prompt asks for."""
    found = re.findall(r"- snippet (\d+): budget (\d+) [^,]+, \w+, scenes ([\d, -]+)", prompt)
    return [(int(i), int(b), _expand(ids)) for i, b, ids in found]


def _expand(ranges: str) -> list[int]:
    """'1-3, 7' → [1, 2, 3, 7]."""
    ids: list[int] = []
    for part in filter(None, (p.strip() for p in ranges.split(","))):
        low, _, high = part.partition("-")
        ids.extend(range(int(low), int(high or low) + 1))
    return ids


def _drafting(length_factor: float, extra_ids: list[int] | None = None, text: str = "剧情推进"):
    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        if schema is Rewrites:
            items = re.findall(r"- index (\d+), at most (\d+)", prompt)
            answer = Rewrites(items=[Rewrite(index=int(i), narration="短" * (int(u) - 1) + "。")
                                     for i, u in items])
            return LlmResult(answer, answer.model_dump_json(), model_call(50, 20, 0.001))
        snippets = [DraftSnippet(index=i, narration="（旁白）" + text * int(u * length_factor / 4)
                                 + "。", source_scene_ids=ids[:1] + (extra_ids or []))
                    for i, u, ids in _indices(prompt)]
        draft = Draft(snippets=snippets)
        return LlmResult(draft, draft.model_dump_json(), model_call(1000, 200, 0.01))
    return respond


def test_model_draft_within_budget_is_kept_and_accounted(blueprint):
    llm = ScriptedLlm(_drafting(0.9, extra_ids=[999]))
    script = narrate(blueprint, params(target_duration_minutes=3), llm)
    _assert_paced(script, blueprint)
    assert script.engine == "scripted" and script.prompt_version == "v2"
    assert all(s.pacing and s.pacing.action == "fits" for s in script.narration_script)
    assert all(999 not in s.source_scene_ids for s in script.narration_script)  # out of scope
    assert script.usage is not None and script.usage.llm_calls == len(llm.prompts)
    assert script.usage.llm_input_tokens == 1000 * len(llm.prompts)
    system, prompt, _ = llm.prompts[0]
    assert "总裁的契约女友" in system and "Voice. Humorous: a witty commentator" in prompt


def test_over_budget_draft_is_rewritten(blueprint):
    llm = ScriptedLlm(_drafting(1.6))
    script = narrate(blueprint, params(target_duration_minutes=3), llm)
    _assert_paced(script, blueprint)
    assert all(s.pacing and s.pacing.action == "rewritten" and s.pacing.rewrites == 1
               for s in script.narration_script)
    assert [p[2] for p in llm.prompts].count("Rewrites") == 1


def test_rewrites_that_stay_long_end_in_a_cut(blueprint):
    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        if schema is Rewrites:
            items = re.findall(r"- index (\d+)", prompt)
            answer = Rewrites(items=[Rewrite(index=int(i), narration="还是太长了。" * 40)
                                     for i in items])
            return LlmResult(answer, "", Usage(llm_calls=1))
        return _drafting(3.0)(system, prompt, schema)

    llm = ScriptedLlm(respond)
    script = narrate(blueprint, params(target_duration_minutes=2), llm)
    _assert_paced(script, blueprint)
    assert all(s.pacing and s.pacing.action == "cut" and s.pacing.rewrites == 2
               for s in script.narration_script)


def test_no_fallback_in_a_language_the_offline_writer_cannot_write(blueprint):
    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        return LlmResult(None, "not json", Usage(llm_calls=1))

    with pytest.raises(LlmError):  # never Chinese fallback text inside an English narration
        narrate(blueprint, params(lang="en", target_duration_minutes=1), ScriptedLlm(respond))

    def half(system: str, prompt: str, schema: type) -> LlmResult:
        wanted = _indices(prompt)[::2]  # every other snippet is missing from the answer
        draft = Draft(snippets=[DraftSnippet(index=i, narration="The story moves on.",
                                             source_scene_ids=ids[:1]) for i, _, ids in wanted])
        return LlmResult(draft, "", Usage(llm_calls=1))

    config = NarrationConfig(prompt_budget_tokens=100_000)
    script = narrate(blueprint, params(lang="en", target_duration_minutes=2),
                     ScriptedLlm(half), config)
    assert all(s.narration == "The story moves on." for s in script.narration_script)
    assert any("footage plays without narration" in n for n in script.notes)


def test_a_draft_in_the_wrong_language_is_no_draft(blueprint):
    llm = ScriptedLlm(_drafting(0.5, text="剧情推进"))  # Chinese, though English was asked for
    with pytest.raises(LlmError):
        narrate(blueprint, params(lang="en", target_duration_minutes=1), llm)
    assert [p[2] for p in llm.prompts] == ["Draft"]


def test_malformed_output_is_repaired_or_falls_back(blueprint):
    answers = iter([
        "Sure! ```json\n" + Draft(snippets=[DraftSnippet(index=0, narration="修好的开场。",
                                                        source_scene_ids=[1])]).model_dump_json()
        + "\n```",  # repairable: JSON inside fences and prose
        "not json at all", "still not json",  # the retry fails too: offline fallback
    ])

    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        return LlmResult(None, next(answers), Usage(llm_calls=1))

    llm = ScriptedLlm(respond)
    config = NarrationConfig(prompt_budget_tokens=2_000)
    script = narrate(blueprint, params(scope={"type": "episode_range", "value": [1, 4]},
                                       target_duration_minutes=1), llm, config)
    engines = [s.engine for s in script.narration_script]
    assert script.narration_script[0].narration == "修好的开场。"
    assert engines[0] == "scripted" and "offline-fallback" in engines
    assert any("offline fallback" in n for n in script.notes)
    _assert_paced(script, blueprint)


def test_long_series_is_written_in_bounded_chunks(blueprint):
    llm = ScriptedLlm(_drafting(0.5))
    config = NarrationConfig(prompt_budget_tokens=3_000)
    script = narrate(blueprint, params(target_duration_minutes=20), llm, config)
    drafts = [p for p in llm.prompts if p[2] == "Draft"]
    assert len(drafts) > 3
    asked = [i for _, prompt, _ in drafts for i, _, _ in _indices(prompt)]
    assert asked == list(range(len(script.narration_script)))  # each snippet asked once
    # The scenes within the budget, plus the story so far (an eighth of it), the template and
    # the previous snippet's last 200 characters.
    overhead = estimate_tokens(render_template_overhead()) + 200
    assert all(estimate_tokens(prompt) <= 3_000 + 3_000 // 8 + overhead
               for _, prompt, _ in drafts)
    assert "previous snippet ended" in drafts[1][1]
    # Later calls recall the episodes already narrated, so the chunks read as one story.
    assert "The story so far" not in drafts[0][1]
    assert "The story so far" in drafts[-1][1] and blueprint.chapters[0].name in drafts[-1][1]


@pytest.mark.parametrize("minutes", [1, 20])
def test_a_500_scene_series_keeps_every_prompt_within_budget(minutes):
    series = parse_dataset(synthetic_blueprint(500))
    llm = ScriptedLlm(_drafting(0.5))
    config = NarrationConfig(prompt_budget_tokens=8_000)
    script = narrate(series, params(target_duration_minutes=minutes), llm, config)
    drafts = [prompt for _, prompt, schema in llm.prompts if schema == "Draft"]
    template = estimate_tokens(render_template_overhead())
    recall = 8_000 // 8  # the story-so-far share
    assert all(estimate_tokens(p) <= 8_000 + recall + template for p in drafts)
    asked = [i for prompt in drafts for i, _, _ in _indices(prompt)]
    assert asked == list(range(len(script.narration_script)))
    assert all(s.engine == "scripted" for s in script.narration_script)
    _assert_paced(script, series)


def render_template_overhead() -> str:
    """The narration prompt with no snippets: what every call costs besides the scenes."""
    control = ControlParams(style="emotional", narrative_focus="romantic_progression")
    return render("narration", lang_name="Chinese", title="bench",
                  style_rule=style_rule(control), focus_rule=focus_rule(control, None),
                  perspective_rule="", character_rule="", custom_rules="", unit_rule="",
                  previous_rule="", story_so_far="", snippets="")

