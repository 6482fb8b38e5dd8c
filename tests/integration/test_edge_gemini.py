"""The edge's narration and localisation requests with Gemini: the real google-genai client
(wired by bootstrap's `gemini_factory`) against the loopback fake Gemini, the API and
the stage worker on fake ports; the localised script is then dubbed by espeak-ng and cut into
an editing script, on the real blueprint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.edge_api import FakeEdge, edge_request
from tests.support.fake_gemini import FakeGemini
from tests.support.fakes import SwitchableFactory, fake_deps
from tests.support.translation import english, rendering
from vss.adapters.espeak import EspeakSpeechEngine
from vss.adapters.tts import audio_tools_from_settings
from vss.bootstrap.models import gemini_factory
from vss.bootstrap.stage_worker import narration_config
from vss.config import Settings
from vss.deps import no_llm
from vss.domain.artifacts import DubbingScript, EditingScript, NarrationScript
from vss.domain.dataset import parse_dataset
from vss.domain.payloads import GenerateNarrationPayload
from vss.narration.compose import plan_for
from vss.narration.localize import slots
from vss.narration.pacing import speech_seconds
from vss.narration.translate import glossary_terms
from vss.ports import LlmFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini(model_version="gemini-2.5-pro") as server:
        yield server


def _gemini_settings(fake: FakeGemini) -> dict[str, Any]:
    return {"gemini_api_key": "test-key", "gemini_base_url": fake.url, "gemini_attempts": 2}


def _edge(fake: FakeGemini, llm_for: LlmFactory | None = None, **wiring: Any) -> FakeEdge:
    """The API and the workers on fake ports; their models are Gemini's as the settings
    configure it (the roots' own factory) unless `llm_for` is given."""
    return FakeEdge.of(fake_deps(llm_for=llm_for, **wiring, **_gemini_settings(fake)))


def _prompt(request: Any) -> str:
    text: str = request.body["contents"][0]["parts"][0]["text"]
    return text


def _script(edge: FakeEdge, task: dict[str, Any]) -> NarrationScript:
    return NarrationScript.model_validate_json(
        edge.read(task["id"], task["result"]["output_file_path"]))


def test_the_edges_narration_request_with_gemini(fake: FakeGemini, blueprint_bytes: bytes):
    edge = _edge(fake)
    path = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    body = edge_request("generate_narration", blueprint_path=path)
    params = GenerateNarrationPayload.model_validate(body["payload"]).service_params
    plan = plan_for(parse_dataset(blueprint_bytes), params,
                    narration_config(edge.deps.settings))
    first, *rest = plan.snippets
    fake.reply_json({"snippets": [
        {"index": first.index, "narration": "车小小和楚昊轩的故事开始了。" * 40,
         "source_scene_ids": list(first.scene_ids[:1])},
        *({"index": s.index, "narration": "两人的关系又近了一步。",
           "source_scene_ids": list(s.scene_ids[:1])} for s in rest)]}, usage=(9000, 1500))
    fake.reply_json({"items": [{"index": first.index, "narration": "好戏开场，两人初见。"}]},
                    usage=(400, 40))

    task = edge.run(body)

    assert task["status"] == "COMPLETED", task["error"]
    requests = fake.requests
    assert [r.model for r in requests] == ["gemini-2.5-pro", "gemini-2.5-pro"]
    draft = _prompt(requests[0])
    assert "Voice. Humorous: a witty commentator" in draft
    assert "Focus. Romantic progression. Follow the relationship between" in draft
    assert "车小小" in draft.split("relationship between", 1)[1][:40]
    assert "[focus]" in draft
    assert "Humorous: a witty commentator" in _prompt(requests[1])  # the rewrite keeps it
    schema = requests[0].body["generationConfig"]["responseSchema"]
    assert "snippets" in schema["properties"]
    script = _script(edge, task)
    assert script.engine == "gemini" and script.prompt_version == "v2"
    opening = script.narration_script[0]
    assert opening.narration == "好戏开场，两人初见。" and opening.pacing is not None
    assert opening.pacing.action == "rewritten" and opening.pacing.speech_rate == 4.2
    # gemini-2.5-pro's price: 1.25 USD per 1M input tokens, 10 per 1M output tokens.
    assert task["usage"]["cost_usd"] == pytest.approx((9400 * 1.25 + 1540 * 10.0) / 1e6)


def test_the_edges_localisation_end_to_end_on_the_real_blueprint(fake: FakeGemini,
                                                                 blueprint_bytes: bytes):
    settings = Settings(**_gemini_settings(fake))
    models = SwitchableFactory(no_llm)  # the master is written offline
    # The TTS worker speaks with espeak-ng and assembles with FFmpeg, as the local stack does.
    edge = _edge(fake, llm_for=models, speech=EspeakSpeechEngine(settings.espeak_binary),
                 audio=audio_tools_from_settings(settings))
    dataset = parse_dataset(blueprint_bytes)
    path = edge.upload("blueprint_contract_girlfriend.json", blueprint_bytes)
    narrated = edge.run(edge_request("generate_narration", blueprint_path=path))
    master = _script(edge, narrated)
    models.factory = gemini_factory(settings)

    # What the stage will ask: the glossary of the names the master uses, then every snippet
    # at its slot narrowed by 15%, at 2.5 English words per second.
    texts = [s.narration for s in master.narration_script]
    terms = glossary_terms(dataset, texts)
    plan = slots(master, dataset, "en", -0.15, narration_config(edge.deps.settings).rate
                 .with_rate("en", 2.5))
    fake.reply_json({"entries": [{"source": t, "target": rendering(t)} for t in terms]})
    translations = []
    for snippet in plan.snippets:
        names = [rendering(t) for t in terms if t in texts[snippet.index]]
        words = snippet.budget_units * (1.4 if snippet.index == 0 else 0.8)
        translations.append({"index": snippet.index, "narration": english(round(words), names)})
    fake.reply_json({"items": translations}, usage=(3000, 900))
    first_names = [rendering(t) for t in terms if t in texts[0]]
    fake.reply_json({"items": [{"index": 0, "narration": english(
        plan.snippets[0].budget_units - 2, first_names[:1])}]})

    localised = edge.run(edge_request("localize_narration", blueprint_path=path,
                                      master_script_path=narrated["result"]["output_file_path"]))

    assert localised["status"] == "COMPLETED", localised["error"]
    assert fake.pending == 0 and len(fake.requests) == 3
    glossary_prompt, translate_prompt, rewrite_prompt = (_prompt(r) for r in fake.requests)
    assert all(f"- {t}" in glossary_prompt for t in terms)
    assert f"车小小 → {rendering('车小小')}" in translate_prompt
    assert "Humorous: a witty commentator" in translate_prompt  # the master's voice
    assert "- index 0, at most" in rewrite_prompt
    script = _script(edge, localised)
    assert script.lang == "en" and script.glossary is not None
    assert {e.source: e.target for e in script.glossary} == {t: rendering(t) for t in terms}
    for ours, theirs, planned in zip(script.narration_script, master.narration_script,
                                     plan.snippets, strict=True):
        assert ours.source_scene_ids == theirs.source_scene_ids
        assert ours.pacing is not None and ours.pacing.budget_seconds == planned.budget_seconds
        assert speech_seconds(ours.narration, "en", narration_config(edge.deps.settings).rate
                              .with_rate("en", 2.5)) <= planned.budget_seconds
    assert script.narration_script[0].pacing.action == "rewritten"  # type: ignore[union-attr]

    # The edge sends the localised script to dubbing, then to editing (without a model: what
    # those stages ask of one is theirs to test).
    models.factory = no_llm
    dubbed = edge.run({"task_type": "GENERATE_DUBBING", "payload": {
        "input_narration_path": localised["result"]["output_file_path"],
        "service_params": {"target_lang": "en"}}})
    assert dubbed["status"] == "COMPLETED", dubbed["error"]
    dubbing = DubbingScript.model_validate_json(
        edge.read(dubbed["id"], dubbed["result"]["output_file_path"]))
    assert dubbing.engine == "espeak-ng"
    for segment, snippet in zip(dubbing.dubbing_script, script.narration_script, strict=True):
        assert segment.narration == snippet.narration
        assert snippet.pacing is not None
        # espeak-ng's English voice speaks about the 2.5 words per second paced for.
        assert segment.duration_seconds == pytest.approx(snippet.pacing.estimated_seconds,
                                                         rel=0.3)
    edited = edge.run({"task_type": "GENERATE_EDITING_SCRIPT", "payload": {
        "dubbing_script_path": dubbed["result"]["output_file_path"], "blueprint_path": path,
        "service_params": {"lang": "en"}}})
    assert edited["status"] == "COMPLETED", edited["error"]
    editing = EditingScript.model_validate_json(
        edge.read(edited["id"], edited["result"]["output_file_path"]))
    for segment in editing.editing_script:
        covered = sum(c.duration for c in segment.b_roll_clips)
        assert covered == pytest.approx(segment.narration_duration, abs=1 / editing.fps)
    json.dumps(editing.model_dump())  # the edge reads it as plain JSON
