"""The requests the seed's edge workbench really sends (tests/data/edge/), through the API and
the stage worker on fake ports: GENERATE_NARRATION with its rate in characters per second and
its overflow tolerance, every focus and style its UI offers, and LOCALIZE_NARRATION."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from tests.support.edge_api import (
    FakeEdge,
    control_params_variants,
    edge_request,
    with_service_params,
)
from tests.support.fake_audio import RecordingSpeechEngine
from tests.support.fakes import ScriptedLlm, SwitchableFactory, fake_deps
from tests.support.paths import BLUEPRINT
from tests.support.translation import translator
from vss.deps import no_llm
from vss.domain.artifacts import NarrationScript
from vss.domain.language import speech_units
from vss.domain.payloads import GenerateNarrationPayload
from vss.errors import BadRequest, LlmError, PayloadInvalid

RATE_POINTER = "/payload/service_params/speaking_rate"
CONTROL = "/payload/service_params/control_params"


@pytest.fixture(scope="module")
def edge() -> FakeEdge:
    return FakeEdge.of(fake_deps())


@pytest.fixture(scope="module")
def blueprint_path(edge: FakeEdge) -> str:
    return edge.upload("blueprint_contract_girlfriend.json", BLUEPRINT.read_bytes())


@pytest.fixture(scope="module")
def narrated(edge: FakeEdge, blueprint_path: str) -> dict[str, Any]:
    """The edge's narration request, run to the end (offline)."""
    return edge.run(edge_request("generate_narration", blueprint_path=blueprint_path))


def _script(edge: FakeEdge, task: dict[str, Any]) -> NarrationScript:
    return NarrationScript.model_validate_json(
        edge.read(task["id"], task["result"]["output_file_path"]))


def test_the_edges_narration_request_runs_at_its_rate_of_characters_per_second(edge, narrated):
    assert narrated["status"] == "COMPLETED", narrated["error"]
    script = _script(edge, narrated)
    assert script.lang == "zh" and script.engine == "offline"
    for snippet in script.narration_script:
        pacing = snippet.pacing
        assert pacing is not None and pacing.speech_rate == 4.2
        # overflow_tolerance 0.0: the budget is the slot, exactly.
        assert pacing.budget_seconds == pacing.slot_seconds
        assert pacing.estimated_seconds == pytest.approx(
            speech_units(snippet.narration, "zh") / 4.2, abs=1e-3)
        assert pacing.estimated_seconds <= pacing.budget_seconds
    assert script.estimated_duration_seconds <= 5 * 60
    snapshot = script.config_snapshot
    assert (snapshot["rag_top_k"], snapshot["debug"], snapshot["speaking_rate"]) == (50, True, 4.2)
    assert snapshot["control_params"]["perspective_character"] is None  # "" means nobody


@pytest.mark.parametrize("control", control_params_variants(),
                         ids=lambda c: f"{c['narrative_focus']}-{c['style']}")
def test_every_focus_and_style_the_edge_offers_is_accepted_and_written(edge, blueprint_path,
                                                                        control):
    body = with_service_params(edge_request("generate_narration",
                                            blueprint_path=blueprint_path),
                               control_params=control)
    task = edge.run(body)
    assert task["status"] == "COMPLETED", task["error"]
    script = _script(edge, task)
    assert script.narration_script
    if control["narrative_focus"] == "custom":
        assert any("custom narrative_focus approximated offline" in n for n in script.notes)
        assert any("custom style is followed only by the Gemini writer" in n
                   for n in script.notes)
    if control["perspective"] == "first_person":
        text = "".join(s.narration for s in script.narration_script)
        assert "车小小" not in text and "我" in text


@pytest.mark.parametrize(("changes", "pointer"), [
    ({"speaking_rate": 0}, RATE_POINTER),
    ({"speaking_rate": 50}, RATE_POINTER),  # 50 characters per second: nobody speaks so fast
    ({"speaking_rate": 1.0}, RATE_POINTER),  # a tempo multiplier, not a rate in characters/s
    ({"lang": "en", "speaking_rate": 9}, RATE_POINTER),  # 9 English words per second
    ({"overflow_tolerance": 0.9}, "/payload/service_params/overflow_tolerance"),
    ({"rag_top_k": 0}, "/payload/service_params/rag_top_k"),
    ({"lang": "de"}, "/payload/service_params/lang"),
    ({"model": "gemini-9-ultra"}, "/payload/service_params/model"),
])
def test_implausible_service_params_are_400_with_a_pointer(edge, blueprint_path, changes,
                                                           pointer):
    body = with_service_params(edge_request("generate_narration",
                                            blueprint_path=blueprint_path), **changes)
    response = edge.create(body)
    error = response.get_json()
    assert response.status_code == 400 and error["code"] == BadRequest.code
    assert [e["pointer"] for e in error["details"]["errors"]] == [pointer]


@pytest.mark.parametrize(("changes", "pointer"), [
    ({"style": "funny"}, f"{CONTROL}/style"),
    ({"narrative_focus": "romance"}, f"{CONTROL}/narrative_focus"),
    ({"narrative_focus": "custom"}, f"{CONTROL}/custom_prompts"),
    ({"style": "custom", "custom_prompts": {"style": "  "}}, f"{CONTROL}/custom_prompts"),
    ({"perspective": "first_person"}, CONTROL),  # first person, and perspective_character ""
])
def test_unknown_or_undescribed_focus_and_style_are_400_with_a_pointer(edge, blueprint_path,
                                                                       changes, pointer):
    body = edge_request("generate_narration", blueprint_path=blueprint_path)
    body["payload"]["service_params"]["control_params"].update(changes)
    response = edge.create(body)
    error = response.get_json()
    assert response.status_code == 400, error
    assert [e["pointer"] for e in error["details"]["errors"]] == [pointer]
    assert "custom" not in str(changes) or "custom_prompts" in error["details"]["errors"][0][
        "reason"]


def test_the_rate_error_says_what_the_rate_is(edge, blueprint_path):
    body = with_service_params(edge_request("generate_narration",
                                            blueprint_path=blueprint_path), speaking_rate=1.0)
    reason = edge.create(body).get_json()["details"]["errors"][0]["reason"]
    assert "Chinese characters per second" in reason and "not a tempo multiplier" in reason


# -- LOCALIZE_NARRATION ------------------------------------------------------------------------


def test_the_edges_localisation_request_without_gemini_fails_saying_what_to_configure(
        edge, blueprint_path, narrated):
    body = edge_request("localize_narration", blueprint_path=blueprint_path,
                        master_script_path=narrated["result"]["output_file_path"])
    task = edge.run(body)
    assert task["status"] == "FAILED" and task["result"] is None
    assert task["error"]["code"] == LlmError.code == 3002
    assert "VSS_GEMINI_API_KEY" in task["error"]["message"]


def test_the_edges_localisation_request_translates_and_paces_to_the_same_slots(
        blueprint_bytes):
    speech = RecordingSpeechEngine()
    models = SwitchableFactory(no_llm)
    edge = FakeEdge.of(fake_deps(speech, llm_for=models))
    path = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    narrated = edge.run(edge_request("generate_narration", blueprint_path=path))
    master = _script(edge, narrated)
    models.factory = lambda model: ScriptedLlm(translator())  # Gemini, from now on
    body = edge_request("localize_narration", blueprint_path=path,
                        master_script_path=narrated["result"]["output_file_path"])
    task = edge.run(body)
    assert task["status"] == "COMPLETED", task["error"]
    assert task["task_type"] == "LOCALIZE_NARRATION"
    result = task["result"]
    assert (result["source_lang"], result["target_lang"]) == ("zh", "en")
    assert result["output_file_path"].endswith("/narration_en.json")
    assert task["usage"]["llm_calls"] >= 2
    script = _script(edge, task)
    assert script.lang == "en"
    for ours, theirs in zip(script.narration_script, master.narration_script, strict=True):
        assert ours.source_scene_ids == theirs.source_scene_ids
        assert ours.pacing is not None and theirs.pacing is not None
        assert ours.pacing.speech_rate == 2.5
        assert ours.pacing.budget_seconds == pytest.approx(theirs.pacing.slot_seconds * 0.85,
                                                           abs=1e-3)
        assert ours.pacing.estimated_seconds <= ours.pacing.budget_seconds
    # The edge then sends the localised script to GENERATE_DUBBING in English, then to
    # GENERATE_EDITING_SCRIPT (without a model: what those stages ask of one is theirs).
    models.factory = no_llm
    dubbed = edge.run({"task_type": "GENERATE_DUBBING", "payload": {
        "input_narration_path": result["output_file_path"],
        "service_params": {"target_lang": "en"}}})
    assert dubbed["status"] == "COMPLETED", dubbed["error"]
    assert speech.requests and {r.lang for r in speech.requests} == {"en"}
    spoken = " ".join(r.text for r in speech.requests)
    assert all(s.narration.split()[0] in spoken for s in script.narration_script)
    # English narration over Chinese scenes shares no word with them, and is still cut.
    edited = edge.run({"task_type": "GENERATE_EDITING_SCRIPT", "payload": {
        "dubbing_script_path": dubbed["result"]["output_file_path"], "blueprint_path": path,
        "service_params": {"lang": "en"}}})
    assert edited["status"] == "COMPLETED", edited["error"]


def test_a_localisation_of_a_dataset_instead_of_a_script_fails_with_3004(edge, blueprint_path):
    body = edge_request("localize_narration", blueprint_path=blueprint_path,
                        master_script_path=blueprint_path)
    task = edge.task(edge.create(body).get_json()["id"])
    assert task["status"] == "FAILED" and task["error"]["code"] == PayloadInvalid.code
    assert "master_script_path must name a narration_script" in task["error"]["message"]


@pytest.mark.parametrize(("changes", "pointer"), [
    ({"target_lang": "de"}, "/payload/service_params/target_lang"),
    ({"speaking_rate": 12}, RATE_POINTER),  # 12 English words per second
    ({"target_lang": "fr", "speaking_rate": 0.5}, RATE_POINTER),  # a French word every 2 s
    ({"target_lang": "zh", "speaking_rate": 1.0}, RATE_POINTER),  # a multiplier
    ({"model": "gpt-4"}, "/payload/service_params/model"),
])
def test_implausible_localisation_params_are_400_with_a_pointer(edge, blueprint_path, narrated,
                                                                changes, pointer):
    body = with_service_params(edge_request(
        "localize_narration", blueprint_path=blueprint_path,
        master_script_path=narrated["result"]["output_file_path"]), **changes)
    response = edge.create(body)
    assert response.status_code == 400, response.get_json()
    assert [e["pointer"] for e in response.get_json()["details"]["errors"]] == [pointer]


# -- the published schema says what the validators say -----------------------------------------


@pytest.mark.parametrize(("changes", "valid"), [
    ({}, True),
    ({"speaking_rate": 50}, False),
    ({"lang": "en", "speaking_rate": 2.5}, True),
    ({"lang": "en", "speaking_rate": 9}, False),
    ({"control_params": {"narrative_focus": "Romantic-Progression", "style": " Healing "}}, True),
    ({"control_params": {"style": "funny"}}, False),
    ({"control_params": {"style": "neutral"}}, True),
    ({"control_params": {"narrative_focus": "custom"}}, False),
    ({"control_params": {"narrative_focus": "custom",
                         "custom_prompts": {"narrative_focus": "爷爷催婚"}}}, True),
    ({"control_params": {"perspective": "first_person", "perspective_character": " "}}, False),
])
def test_the_payload_schema_agrees_with_the_validators(changes, valid):
    body = with_service_params(edge_request("generate_narration"), **changes)
    schema = GenerateNarrationPayload.model_json_schema(mode="validation")
    in_schema = jsonschema.Draft202012Validator(schema).is_valid(body["payload"])
    try:
        GenerateNarrationPayload.model_validate(body["payload"])
        accepted = True
    except ValidationError:
        accepted = False
    assert in_schema == accepted == valid
