"""CHARACTER_IDENTIFIER with Gemini: the real google-genai client (wired as the stage worker
wires it) against the loopback FakeGemini, through the API and the stage runner on fakes.
What the model proposes is checked: a quote that is not in its scene is dropped and counted,
a fact proposed twice is kept once, and the answer schema holds the vocabulary."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.support.edge_api import FakeEdge, edge_request
from tests.support.fake_gemini import FakeGemini
from tests.support.fakes import fake_deps
from vss.domain.character_facts import CharacterFactsReport


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


def _fact(scene_id: int, attribute: str, value: str, quote: str, kind: str = "状态性"
          ) -> dict[str, object]:
    return {"character": "宋安娜", "scene_id": scene_id, "attribute": attribute,
            "value": value, "source_text": quote, "type": kind}


def test_facts_from_gemini_are_quoted_verbatim_and_merged(fake: FakeGemini,
                                                          blueprint_bytes: bytes):
    heir = _fact(1, "社会属性", "和风集团继承人", "她的目的是假扮闺蜜和风集团继承人宋安娜")
    fake.reply_json({"facts": [
        heir, dict(heir),  # proposed twice: kept once
        _fact(20, "家庭状态", "拥有父亲", "宋安娜突然接到了她爸爸的电话"),
        _fact(1, "性格特征", "冷酷", "她从来不笑", "恒定"),  # not in scene 1: dropped
    ]}, usage=(30_000, 600))
    # One call: the budget holds every scene 宋安娜 is in.
    # llm_for=None: the roots' own model factory, Gemini as these settings configure it.
    edge = FakeEdge.of(fake_deps(llm_for=None, gemini_api_key="AIza-facts-test",
                                 gemini_base_url=fake.url, gemini_attempts=1,
                                 narration_prompt_budget_tokens=400_000))
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    body = edge_request("character_identifier", input_file_path=dataset)
    body["payload"]["service_params"]["characters_to_analyze"] = ["宋安娜"]
    done = edge.run(body)
    assert done["status"] == "COMPLETED", done.get("error")

    (call,) = fake.requests
    assert call.body["generationConfig"]["temperature"] == 0.1  # the edge's `temp`
    schema = call.body["generationConfig"]["responseSchema"]
    fact_schema = schema["properties"]["facts"]["items"]["properties"]
    assert "职业" in fact_schema["attribute"]["enum"] and "恒定" in fact_schema["type"]["enum"]
    report = CharacterFactsReport.model_validate_json(
        edge.read(done["id"], done["result"]["output_file_path"]))
    facts = [(f.scene_id, f.attribute, f.value, f.source)
             for f in report.identified_facts_by_character["宋安娜"]]
    assert facts == [(1, "社会属性", "和风集团继承人", "model"),
                     (20, "家庭状态", "拥有父亲", "model")]
    assert report.dropped_unquoted == 1 == done["result"]["dropped_unquoted"]
    assert report.engine == done["result"]["engine"] == "gemini"
    assert done["usage"]["llm_input_tokens"] == 30_000 and done["usage"]["llm_calls"] == 1


def test_a_scene_split_across_calls_keeps_a_fact_found_in_each_part_once(
        fake: FakeGemini, blueprint_bytes: bytes):
    """Scene 1 made too long for one call (its lines said over and over) goes over several
    calls; every call that shows a part of it proposes the same fact, and the report keeps
    it once."""
    blueprint = json.loads(blueprint_bytes)
    blueprint["scenes"]["1"]["dialogues"] *= 150
    heir = _fact(1, "社会属性", "和风集团继承人", "她的目的是假扮闺蜜和风集团继承人宋安娜")
    fake.generate_with(lambda prompt: {"facts": [heir] if re.search(
        r"^scene 1\b", prompt, re.M) else []})
    edge = FakeEdge.of(fake_deps(llm_for=None, gemini_api_key="AIza-facts-test",
                                 gemini_base_url=fake.url, gemini_attempts=1,
                                 narration_prompt_budget_tokens=2_000))
    dataset = edge.upload("long_scene.json", json.dumps(blueprint, ensure_ascii=False).encode())
    body = edge_request("character_identifier", input_file_path=dataset)
    body["payload"]["service_params"]["characters_to_analyze"] = ["宋安娜"]
    done = edge.run(body)
    assert done["status"] == "COMPLETED", done.get("error")

    showing_scene_1 = [r for r in fake.requests if re.search(r"^scene 1\b", r.prompt, re.M)]
    assert len(showing_scene_1) >= 2 and len(fake.requests) > len(showing_scene_1)
    report = CharacterFactsReport.model_validate_json(
        edge.read(done["id"], done["result"]["output_file_path"]))
    facts = [(f.scene_id, f.value) for f in report.identified_facts_by_character["宋安娜"]]
    assert facts == [(1, "和风集团继承人")]
    assert done["usage"]["llm_calls"] == len(fake.requests)


def test_an_unknown_character_is_a_400_before_the_model_is_asked(fake: FakeGemini,
                                                                 blueprint_bytes: bytes):
    edge = FakeEdge.of(fake_deps(llm_for=None, gemini_api_key="AIza-facts-test",
                                 gemini_base_url=fake.url))
    dataset = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    body = edge_request("character_identifier", input_file_path=dataset)
    body["payload"]["service_params"]["characters_to_analyze"] = ["宋安娜", "无名氏"]
    answer = edge.create(body)
    assert answer.status_code == 400
    error = answer.get_json()
    assert "无名氏" in error["message"] and error["code"]
    assert [e["pointer"] for e in error["details"]["errors"]] == [
        "/payload/service_params/characters_to_analyze/1"]
    assert {"宋安娜", "车小小"} <= set(error["details"]["characters"])
    assert fake.requests == []
