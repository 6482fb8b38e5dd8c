"""The real `google-cloud-texttospeech` client (REST transport) against the loopback fake
Cloud TTS server: what the adapter sends for each voice family, retries, refusals."""

from __future__ import annotations

import pytest

from tests.support.fake_audio import FakeAudioTools
from tests.support.fake_tts import FakeTts
from vss.adapters.cloud_tts import CloudTtsSpeechEngine
from vss.adapters.tts import speech_engines_from_settings
from vss.config import Settings
from vss.domain.artifacts import NarrationScript
from vss.domain.audio import wav_facts
from vss.domain.payloads import GenerateDubbingPayload
from vss.dubbing.audio import decode_wav, measure
from vss.dubbing.plan import plan_segments
from vss.dubbing.synthesis import synthesize_segment
from vss.errors import RateLimited, RetryableError, TtsError
from vss.ports import SpeechRequest

GEMINI = SpeechRequest(text="她终于走进了那家咖啡店。", lang="zh", voice="Puck",
                       language_code="cmn-CN", model="gemini-2.5-pro-tts",
                       prompt="用温柔的语气讲述。", rate=1.1)


@pytest.fixture
def fake():
    with FakeTts() as server:
        yield server


def engine(fake: FakeTts, attempts: int = 4) -> CloudTtsSpeechEngine:
    return CloudTtsSpeechEngine.connect(fake.url, attempts=attempts, backoff_seconds=0.01)


def test_a_gemini_voice_is_asked_for_by_model_speaker_and_style_prompt(fake):
    speech = engine(fake).speak(GEMINI)
    (call,) = fake.calls
    assert call.path == "/v1/text:synthesize"
    assert call.body["input"] == {"text": GEMINI.text, "prompt": "用温柔的语气讲述。"}
    assert call.voice == {"languageCode": "cmn-CN", "name": "Puck",
                          "modelName": "gemini-2.5-pro-tts"}
    assert call.body["audioConfig"] == {"audioEncoding": "LINEAR16", "sampleRateHertz": 48000,
                                        "speakingRate": 1.1}
    facts = wav_facts(speech.wav)
    assert (facts.sample_rate, facts.channels, speech.engine) == (48_000, 1, "google-tts")
    assert speech.duration_seconds == pytest.approx(facts.duration_seconds)


def test_a_chirp_voice_is_asked_for_by_name_without_a_prompt(fake):
    engine(fake).speak(SpeechRequest(text="She walks in.", lang="en",
                                     voice="en-US-Chirp3-HD-Charon", language_code="en-US",
                                     prompt="ignored without a model"))
    body = fake.calls[0].body
    assert "prompt" not in body["input"]
    assert body["voice"] == {"languageCode": "en-US", "name": "en-US-Chirp3-HD-Charon"}


def test_an_instant_custom_voice_is_asked_for_by_its_cloning_key(fake):
    speech = engine(fake).speak(SpeechRequest(text="希望你以后能够做得更好。", lang="zh",
                                              language_code="cmn-CN", cloning_key="key-abc"))
    assert fake.calls[0].voice == {"languageCode": "cmn-CN",
                                   "voiceClone": {"voiceCloningKey": "key-abc"}}
    assert speech.voice == "instant-custom-voice"


def test_a_burst_of_429_and_500_is_retried_until_the_speech_comes(fake):
    fake.burst(429, 500, 429)
    speech = engine(fake).speak(GEMINI)
    assert [c.status for c in fake.calls] == [429, 500, 429, 200]
    assert speech.duration_seconds > 1.0


def test_a_burst_longer_than_the_attempts_is_retryable_for_the_fan_out(fake):
    fake.burst(429, 429, 429)
    with pytest.raises(RateLimited):
        engine(fake, attempts=3).speak(GEMINI)
    fake.burst(503, 503)
    with pytest.raises(RetryableError):
        engine(fake, attempts=2).speak(GEMINI)


def test_a_permanent_400_is_a_tts_error_at_once(fake):
    fake.refuse("咖啡店", 400)
    with pytest.raises(TtsError) as caught:
        engine(fake).speak(GEMINI)
    assert len(fake.calls) == 1 and caught.value.details["status"] == 400


def test_the_edges_gemini_payload_is_synthesised_through_the_real_client(fake):
    """Settings with an endpoint select Cloud TTS; the segment is post-processed to spec."""
    payload = GenerateDubbingPayload.model_validate({
        "input_narration_path": "p", "service_params": {
            "template_name": "chinese_gemini_emotional", "voice_name": "Puck",
            "language_code": "cmn-CN", "speaking_rate": 1.0,
            "model_name": "gemini-2.5-pro-tts"}})
    script = NarrationScript.model_validate({"narration_script": [{
        "narration": "车小小走进咖啡厅，一眼就看见了楚昊轩。她强装镇定。",
        "source_scene_ids": [1]}]})
    engines = speech_engines_from_settings(Settings(tts_endpoint=fake.url))
    assert engines.cloud is not None
    (request,) = plan_segments(script, payload.service_params)
    fake.burst(429)
    out = synthesize_segment(request, engines, FakeAudioTools())
    assert out.record.engine == "google-tts" and out.record.voice == "Puck"
    assert out.record.fallback_reason is None
    assert out.record.tts_characters == {"gemini-2.5-pro-tts": len(request.text)}
    samples, rate = decode_wav(out.wav)
    loudness = measure(samples, rate)
    assert rate == 48_000 and abs(loudness.lufs + 16) <= 1 and loudness.true_peak_dbtp <= -1
    assert fake.succeeded[0].voice["modelName"] == "gemini-2.5-pro-tts"


def test_a_refused_segment_fails_with_its_name_and_the_others_are_still_synthesised(fake):
    script = NarrationScript.model_validate({"narration_script": [
        {"narration": f"第{n}段解说。她转身离开。", "source_scene_ids": [n]} for n in range(3)]})
    engines = speech_engines_from_settings(Settings(tts_endpoint=fake.url))
    requests = plan_segments(script, GenerateDubbingPayload.model_validate(
        {"input_narration_path": "p", "service_params": {
            "template_name": "chinese_paieas_replication", "speed": 1.0}}).service_params)
    fake.refuse("第1段", 400)
    fake.burst(500, 429)
    outcomes = []
    for request in requests:
        try:
            outcomes.append(synthesize_segment(request, engines, FakeAudioTools()).record.engine)
        except TtsError as exc:
            outcomes.append(exc.details["basename"])
    assert outcomes == ["google-tts", "narration_001.wav", "google-tts"]
    assert {c.voice.get("name") for c in fake.succeeded} == {"cmn-CN-Chirp3-HD-Leda"}
