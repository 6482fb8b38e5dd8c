"""The audio director and the rewrite through the real `google-genai` client and the
loopback fake Gemini: what the model is asked, and what reaches the TTS request."""

from __future__ import annotations

import re

from tests.support.fake_audio import FakeAudioTools, RecordingSpeechEngine
from tests.support.fake_gemini import FakeGemini
from vss.adapters.gemini import GeminiWriter
from vss.domain.artifacts import NarrationScript
from vss.domain.payloads import DubbingServiceParams
from vss.domain.usage import Meter
from vss.dubbing.director import llm_director, llm_rewriter
from vss.dubbing.plan import plan_segments
from vss.dubbing.synthesis import synthesize_segment
from vss.metering import MeteredLlm
from vss.ports import SpeechEngines

LINE = "楚昊轩冷冷地说：“你给我站住！”车小小转身就跑。"


def writer(fake: FakeGemini) -> MeteredLlm:
    return MeteredLlm(GeminiWriter(model="gemini-2.5-flash", api_key="test-key",
                                   base_url=fake.url, price_per_million=(0.30, 2.50),
                                   attempts=2), Meter())


def planned(slot: float | None = None):
    snippet: dict[str, object] = {"narration": LINE, "source_scene_ids": [4]}
    if slot:
        snippet["pacing"] = {"footage_seconds": slot, "budget_seconds": slot,
                             "estimated_seconds": 6, "speech_rate": 4.5, "action": "fits"}
    script = NarrationScript.model_validate({"lang": "zh", "narration_script": [snippet]})
    (request,) = plan_segments(script, DubbingServiceParams(
        template_name="chinese_gemini_emotional", voice_name="Puck",
        model_name="gemini-2.5-pro-tts", language_code="cmn-CN"), characters=["楚昊轩"])
    return request


def test_the_director_notes_each_line_and_the_words_stay_the_scripts():
    cloud = RecordingSpeechEngine("google-tts")
    engines = SpeechEngines(offline=[RecordingSpeechEngine()], cloud=cloud)
    with FakeGemini() as fake:
        fake.reply_json({"notes": [
            {"line": 1, "note": "Cold, clipped, low voice."},
            {"line": 2, "note": "Sharp shout, urgent."},
            {"line": 3, "note": "Quick and breathless, rising tension."}]}, usage=(200, 40))
        llm = writer(fake)
        out = synthesize_segment(planned(), engines, FakeAudioTools(),
                             director=llm_director(llm))
        (call,) = fake.requests
    prompt = str(call.body)
    assert "你给我站住！" in prompt and "[楚昊轩]" in prompt  # each line, with its speaker
    sent = [(r.text, r.voice, r.prompt) for r in cloud.requests]
    assert [t for t, _, _ in sent] == ["楚昊轩冷冷地说：", "你给我站住！", "车小小转身就跑。"]
    assert "Sharp shout" in (sent[1][2] or "") and sent[1][1] != sent[0][1]
    assert sent[0][2] and sent[0][2].startswith("用富有感情")  # the template's style first
    assert out.record.delivery_notes[1] == "Sharp shout, urgent."
    assert llm.meter.total.llm_input_tokens == 200 and llm.meter.total.cost_usd > 0


def test_the_model_rewrite_shortens_a_line_that_overruns_its_slot():
    engines = SpeechEngines(offline=[RecordingSpeechEngine("kokoro")])
    with FakeGemini() as fake:
        fake.reply_json({"text": "楚昊轩喝令她站住，她扭头就跑。"})
        out = synthesize_segment(planned(slot=3.2), engines, FakeAudioTools(),
                             rewrite=llm_rewriter(writer(fake)))
        (call,) = fake.requests
    asked = re.search(r"at most (\d+) Chinese characters \(it now has 19\)", str(call.body))
    assert asked and 8 <= int(asked[1]) < 19  # the slot at the voice's measured rate
    assert out.record.narration == "楚昊轩喝令她站住，她扭头就跑。"
    assert out.record.fit.shortened_by == "rewrite" and out.record.original_narration == LINE


def test_a_director_the_model_cannot_serve_costs_only_the_notes():
    cloud = RecordingSpeechEngine("google-tts")
    engines = SpeechEngines(offline=[RecordingSpeechEngine()], cloud=cloud)
    with FakeGemini() as fake:
        fake.reply_status(503)
        fake.reply_status(503)
        out = synthesize_segment(planned(), engines, FakeAudioTools(),
                             director=llm_director(writer(fake)))
    assert out.record.delivery_notes == [] and len(cloud.requests) == 3
