"""Facts found by a model through the StructuredLlm port (scripted here), checked and merged."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from tests.support.fakes import ScriptedLlm, model_call
from tests.support.synthetic import story
from vss.analysis.identify import identify_facts
from vss.analysis.llm_facts import REPAIR, SYSTEM, answer_schema
from vss.analysis.verbatim import says_more_than_names
from vss.domain.cast import appearances, speakers
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.language import estimate_tokens
from vss.errors import LlmError
from vss.ports import LlmResult

_SCENE = re.compile(r"^scene (\d+)", re.MULTILINE)
Facts = Callable[[list[int]], list[dict[str, Any]]]


def shown(prompt: str) -> list[int]:
    """The scenes a prompt shows (a scene's continuation included)."""
    return sorted({int(i) for i in _SCENE.findall(prompt)})


def fact(scene_id: int, attribute: str, value: str, quote: str, character: str = "车小小",
         kind: str = "状态性", **more: Any) -> dict[str, Any]:
    return {"character": character, "scene_id": scene_id, "attribute": attribute,
            "value": value, "source_text": quote, "type": kind, **more}


def answering(facts: Facts) -> ScriptedLlm:
    """A model answering `facts(scenes shown)`; like the Gemini client, `parsed` is None when
    the text is not valid for the schema."""
    def respond(system: str, prompt: str, schema: type) -> LlmResult[Any]:
        text = json.dumps({"facts": facts(shown(prompt))}, ensure_ascii=False)
        try:
            parsed = schema.model_validate_json(text)
        except ValidationError:
            parsed = None
        return LlmResult(parsed, text, model_call(100, 20, 0.001))

    return ScriptedLlm(respond)


def test_facts_are_checked_against_their_scenes(blueprint: Dataset):
    def facts(ids: list[int]) -> list[dict[str, Any]]:
        found = [fact(i, "性格特征", "爱说话", blueprint.scenes[i].dialogues[0].content)
                 for i in ids if blueprint.scenes[i].dialogues]
        if 1 in ids:
            found += [fact(1, "职业", "海晏集团职员", "车小小 海晏集团职员"),
                      fact(1, "技能", "演技", "我演技天下第一"),  # not in scene 1
                      fact(1, "爱好", "相亲", "车小小，好戏开场了"),  # not an attribute
                      fact(1, "性别", "女", "宋安娜")]  # a line of scene 1, but a bare name
        return [*found, fact(999, "职业", "总裁", "我是总裁"),  # not a scene shown
                fact(ids[0], "职业", "总裁", "车小小 海晏集团职员", character="楚昊轩")]

    llm = answering(facts)
    report = identify_facts(blueprint, ["车小小"], "zh", llm, prompt_budget_tokens=3000)

    assert len(llm.prompts) > 1  # chunked
    assert all(estimate_tokens(system + prompt) <= 3000 for system, prompt, _ in llm.prompts)
    found = report.identified_facts_by_character["车小小"]
    assert [(f.attribute, f.value, f.source_text) for f in found if f.scene_id == 1] == [
        ("性格特征", "爱说话", "车小小，好戏开场了"),
        ("职业", "海晏集团职员", "车小小 海晏集团职员")]
    assert [f.scene_id for f in found] == sorted(f.scene_id for f in found)
    assert {f.source for f in found} == {"model"}
    shown = appearances(blueprint, ["车小小"])["车小小"]
    bare_first_lines = sum(not says_more_than_names(blueprint.scenes[i].dialogues[0].content,
                                                    speakers(blueprint))
                           for i in shown if blueprint.scenes[i].dialogues)
    assert bare_first_lines >= 1  # lines such as "宋安娜" alone: no fact can rest on them
    assert report.dropped_unquoted == 2 + bare_first_lines
    assert "楚昊轩" not in report.identified_facts_by_character
    assert any("rejected" in note for note in report.notes)
    assert report.engine == "scripted"
    assert report.usage is not None and report.usage.llm_calls == len(llm.prompts)


def test_a_fact_found_in_two_chunks_is_kept_once():
    lines = [("车小小", f"今天是第{k}天上班，我还是海晏集团职员") for k in range(40)]
    dataset = parse_dataset(story({"lines": lines, "captions": ["车小小 海晏集团职员"]},
                                  {"lines": [("车小小", "下班了")]}))

    def facts(ids: list[int]) -> list[dict[str, Any]]:
        return [fact(1, "职业", "海晏集团职员", "车小小 海晏集团职员"),
                fact(1, "职业", "海晏集团 职员", "我还是海晏集团职员")]

    llm = answering(facts)
    report = identify_facts(dataset, ["车小小"], "zh", llm, prompt_budget_tokens=900)

    assert [1 in shown(prompt) for _, prompt, _ in llm.prompts] == [True, True]
    assert [(f.scene_id, f.value) for f in report.identified_facts_by_character["车小小"]] == [
        (1, "海晏集团职员")]


def test_every_line_of_a_long_scene_is_shown_once():
    lines = [("车小小", f"第{k}句") for k in range(40)]
    dataset = parse_dataset(story({"lines": lines}))
    llm = answering(lambda ids: [])

    identify_facts(dataset, ["车小小"], "zh", llm, prompt_budget_tokens=800)

    said = [line for _, prompt, _ in llm.prompts for line in re.findall(r"第\d+句", prompt)]
    assert said == [content for _, content in lines]


def test_other_keeps_its_suggested_attribute_and_only_other_does(blueprint: Dataset):
    def facts(ids: list[int]) -> list[dict[str, Any]]:
        return [fact(1, "其他", "不是宋安娜", "我就是和风集团继承人", kind="情境性",
                     suggested_attribute="真实身份"),
                fact(1, "职业", "海晏集团职员", "车小小 海晏集团职员",
                     suggested_attribute="工作")] if 1 in ids else []

    report = identify_facts(blueprint, ["车小小"], "zh", answering(facts),
                            prompt_budget_tokens=20_000)

    found = [(f.attribute, f.suggested_attribute)
             for f in report.identified_facts_by_character["车小小"]]
    assert found == [("其他", "真实身份"), ("职业", None)]


def test_an_unreadable_answer_is_asked_for_once_more(small: Dataset):
    answers = iter([LlmResult(None, "Here are the facts you asked for."),
                    LlmResult(None, '```json\n{"facts": [{"character": "Mara", "scene_id": 1, '
                              '"attribute": "occupation", "value": "climber", "source_text": '
                              '"Nobody has climbed these stairs", "type": "stateful"}]}\n```')])
    llm = ScriptedLlm(lambda system, prompt, schema: next(answers))

    report = identify_facts(small, ["Mara"], "en", llm, prompt_budget_tokens=20_000)

    assert [p.startswith(REPAIR) for _, p, _ in llm.prompts] == [False, True]
    assert [f.value for f in report.identified_facts_by_character["Mara"]] == ["climber"]


def test_a_refused_chunk_is_noted_and_the_others_kept(blueprint: Dataset):
    def respond(system: str, prompt: str, schema: type) -> LlmResult[Any]:
        if 1 in shown(prompt):
            raise LlmError("blocked: SAFETY")
        return answering(lambda ids: [fact(ids[0], "性格特征", "直率",
                                           blueprint.scenes[ids[0]].dialogues[0].content)]
                         ).generate(system=system, prompt=prompt, schema=schema)

    report = identify_facts(blueprint, ["车小小"], "zh", ScriptedLlm(respond),
                            prompt_budget_tokens=3000)

    assert report.engine == "scripted"
    assert any("refused" in note and "scenes 1–" in note for note in report.notes)
    assert report.identified_facts_by_character["车小小"]
    assert all(f.scene_id != 1 for f in report.identified_facts_by_character["车小小"])


def test_when_the_model_answers_no_chunk_the_facts_are_read_offline(blueprint: Dataset):
    def respond(system: str, prompt: str, schema: type) -> LlmResult[Any]:
        raise LlmError("blocked: SAFETY")

    report = identify_facts(blueprint, ["车小小"], "zh", ScriptedLlm(respond),
                            prompt_budget_tokens=20_000)

    assert report.engine == "offline-fallback"
    first = report.identified_facts_by_character["车小小"][0]
    assert (first.attribute, first.value, first.source) == ("职业", "海晏集团职员", "offline")


def test_the_answer_schema_holds_labels_to_the_vocabulary():
    zh, en = answer_schema("zh"), answer_schema("en")
    item = fact(1, "职业", "职员", "车小小 海晏集团职员")

    assert zh.fact.model_validate(item).attribute == "职业"
    for wrong in ({"attribute": "爱好"}, {"type": "stateful"}, {"attribute": "occupation"}):
        with pytest.raises(ValidationError):
            zh.fact.model_validate({**item, **wrong})
    assert en.fact.model_validate({**item, "attribute": "occupation", "type": "stateful"})
    schema = json.dumps(zh.answer.model_json_schema(), ensure_ascii=False)
    assert '"enum": ["职业", "性格特征", "扮演身份"' in schema
    assert SYSTEM  # the instructions are sent as the system prompt
