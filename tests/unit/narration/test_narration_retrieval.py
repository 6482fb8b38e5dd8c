"""What a narration takes from its asset's story index: the retrieved scenes weigh more in the
plan and are marked in the model's excerpts, and the model is told the characters' facts."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.support.fakes import ScriptedLlm, model_call
from vss.config import NarrationConfig
from vss.domain.character_facts import CharacterFact
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import NarrationServiceParams
from vss.narration.compose import focus_lens, narrate, plan_for
from vss.narration.llm_writer import Draft, DraftSnippet
from vss.narration.retrieval import (
    CHARACTERS_WITH_FACTS,
    FACTS_PER_CHARACTER,
    Retrieved,
    facts_rule,
    retrieved_facts,
    weighted,
)
from vss.ports import LlmResult


@pytest.fixture(scope="module")
def blueprint(blueprint_bytes: bytes) -> Dataset:
    return parse_dataset(blueprint_bytes)


def _params(**control: object) -> NarrationServiceParams:
    return NarrationServiceParams.model_validate(
        {"lang": "zh", "control_params": {"target_duration_minutes": 2, **control}})


def _fact(scene_id: int, attribute: str, value: str) -> CharacterFact:
    return CharacterFact(scene_id=scene_id, attribute=attribute, value=value,
                         source_text=value, type="恒定")


def _drafting(system: str, prompt: str, schema: type) -> LlmResult:
    indices = [int(i) for i in re.findall(r"- snippet (\d+): budget", prompt)]
    draft = Draft(snippets=[DraftSnippet(index=i, narration="剧情推进。", source_scene_ids=[])
                            for i in indices])
    return LlmResult(draft, draft.model_dump_json(), model_call(100, 20, 0.001))


def _late_scenes(dataset: Dataset, count: int) -> tuple[int, ...]:
    return tuple(sorted(dataset.scenes)[-count:])


def test_retrieved_scenes_are_at_least_as_relevant_as_their_rank(blueprint):
    lens = focus_lens(blueprint, _params())
    ranked = _late_scenes(blueprint, 3)
    seen = weighted(lens, Retrieved(query="q", scene_ids=ranked))
    assert [seen.relevance[i] for i in ranked] == [1.0, 0.75, 0.5]
    already = dict(lens.relevance) | {ranked[2]: 0.9}
    seen = weighted(replace(lens, relevance=already),
                    Retrieved(query="q", scene_ids=ranked))
    assert seen.relevance[ranked[2]] == 0.9  # a retrieval never lowers the focus's own interest
    untouched = set(blueprint.scenes) - set(ranked)
    assert all(seen.relevance.get(i, 0.0) == already.get(i, 0.0) for i in untouched)


@pytest.mark.parametrize("ranked", [(59, 60, 61, 62, 63), (10, 20, 30, 40, 50), (30, 31, 32)])
def test_the_retrieved_scenes_get_a_larger_share_of_the_plan(blueprint, ranked):
    """A snippet speaks over all of its footage, so the budget that goes to a retrieved scene
    is its snippet's budget in proportion to the scene's footage: retrieval gives those
    scenes snippets of their own instead of diluting them among their neighbours."""
    params = _params()
    lens = focus_lens(blueprint, params)
    scenes = blueprint.scenes

    def budget_on_retrieved(plan_lens) -> float:
        plan = plan_for(blueprint, params, NarrationConfig(), lens=plan_lens)
        return sum(s.budget_seconds * sum(scenes[i].duration for i in s.scene_ids if i in ranked)
                   / s.footage_seconds for s in plan.snippets)

    without = budget_on_retrieved(lens)
    with_index = budget_on_retrieved(weighted(lens, Retrieved(query="q", scene_ids=ranked)))
    assert with_index > without * 1.05, (with_index, without)


def test_the_model_is_told_the_facts_and_sees_the_retrieved_scenes_marked(blueprint):
    ranked = _late_scenes(blueprint, 2)
    retrieved = Retrieved(query="车小小 身份", scene_ids=ranked,
                          facts={"车小小": ("职业: 海晏集团职员", "性格特征: 倔强")})
    llm = ScriptedLlm(_drafting)
    narrate(blueprint, _params(), llm, retrieved=retrieved)
    prompts = "\n".join(prompt for _, prompt, schema in llm.prompts if schema == "Draft")
    assert "Known facts about the characters" in prompts
    assert "车小小: 职业: 海晏集团职员, 性格特征: 倔强" in prompts
    marked = {int(i) for i in re.findall(r"scene (\d+) \([^\n]*\[focus\]", prompts)}
    assert set(ranked) <= marked

    unaided = ScriptedLlm(_drafting)
    narrate(blueprint, _params(), unaided)
    assert "Known facts" not in "\n".join(prompt for _, prompt, _ in unaided.prompts)


def test_the_facts_told_are_the_narrations_own_characters_first():
    facts = {"车小小": [_fact(1, "职业", "职员"), _fact(2, "职业", "职员"),
                      _fact(3, "技能", "画画")],
             "宋安娜": [_fact(4, "职业", "总裁")],
             "路人": [_fact(9, "其他", "路过")]}
    told = retrieved_facts(facts, ["宋安娜", "无名氏"], scene_ids=(1, 2, 3))
    assert told == {"宋安娜": ("职业: 总裁",)}  # named characters win; a fact is told once
    by_presence = retrieved_facts(facts, [], scene_ids=(9, 1, 2))
    assert list(by_presence) == ["车小小", "路人"]  # most facts in the retrieved scenes first
    assert by_presence["车小小"] == ("职业: 职员", "技能: 画画")
    assert retrieved_facts(facts, [], scene_ids=(7,)) == {}


def test_the_facts_told_are_bounded():
    facts = {f"角色{n}": [_fact(1, "其他", f"事实{k}") for k in range(FACTS_PER_CHARACTER + 4)]
             for n in range(CHARACTERS_WITH_FACTS + 3)}
    told = retrieved_facts(facts, [], scene_ids=(1,))
    assert len(told) == CHARACTERS_WITH_FACTS
    assert all(len(lines) == FACTS_PER_CHARACTER for lines in told.values())
    assert facts_rule(None) == "" and facts_rule(Retrieved(query="q", scene_ids=(1,))) == ""
