"""Synthesising one segment on fakes: engines chosen and why, post-processing, fitting."""

from __future__ import annotations

import pytest

from tests.support.fake_audio import FakeAudioTools, RecordingSpeechEngine
from vss.domain.artifacts import NarrationScript
from vss.domain.audio import wav_facts
from vss.domain.payloads import DubbingServiceParams
from vss.dubbing.audio import decode_wav, measure
from vss.dubbing.plan import SegmentRequest, plan_segments
from vss.dubbing.synthesis import synthesize_segment
from vss.errors import TtsError
from vss.handler_config import SynthesisConfig
from vss.ports import LlmResult, SpeechEngines

LINE = "车小小走进咖啡厅。她看见了楚昊轩。两人都愣住了。"  # 19 units: ~4.2 s at 4.5/s


def request(slot: float, template: str = "local_zh", text: str = LINE,
            **params: object) -> SegmentRequest:
    script = NarrationScript.model_validate({"lang": "zh", "narration_script": [{
        "narration": text, "source_scene_ids": [3],
        "pacing": {"footage_seconds": slot + 1, "budget_seconds": slot, "estimated_seconds": slot,
                   "speech_rate": 4.5, "action": "fits"}}]})
    (planned,) = plan_segments(script, DubbingServiceParams(template_name=template, **params),
                               characters=["楚昊轩"])
    return planned


def offline(*engines: RecordingSpeechEngine, **kwargs: object) -> SpeechEngines:
    return SpeechEngines(offline=list(engines) or [RecordingSpeechEngine("kokoro")],
                        **kwargs)  # type: ignore[arg-type]


def test_a_segment_that_fits_is_trimmed_normalised_and_48k_mono_pcm16():
    tools = FakeAudioTools()
    out = synthesize_segment(request(6.0), offline(), tools)
    facts = wav_facts(out.wav)
    assert (facts.sample_rate, facts.channels, facts.sample_width_bytes) == (48_000, 1, 2)
    samples, rate = decode_wav(out.wav)
    loudness = measure(samples, rate)  # measured again, independently of the record
    assert abs(loudness.lufs + 16) <= 1.0 and loudness.true_peak_dbtp <= -1.0
    record = out.record
    assert record.fit.action == "fits" and record.fit.tempo == 1.0 and tools.tempos == []
    assert record.loudness.lufs == pytest.approx(loudness.lufs, abs=0.01)
    # the 0.2 s of silence at each end is trimmed to the 50 ms pad
    assert record.duration_seconds < record.fit.raw_duration_seconds + 0.01
    assert record.duration_seconds == pytest.approx(facts.duration_seconds, abs=0.001)
    assert (record.engine, record.fallback_reason) == ("kokoro", None)
    assert record.tts_characters == {"kokoro": len(LINE)}


def test_a_small_overrun_is_fitted_by_a_tempo_change_no_larger_than_the_limit():
    natural = synthesize_segment(request(20.0), offline(), FakeAudioTools()).record
    slot = natural.fit.raw_duration_seconds / 1.1  # 10 % too long: more than the tolerance
    engine = RecordingSpeechEngine("kokoro")
    tools = FakeAudioTools()
    out = synthesize_segment(request(slot), offline(engine), tools)
    assert out.record.fit.action == "tempo"
    assert len(tools.tempos) == 1 and tools.tempos[0] == pytest.approx(1.1, abs=0.01)
    assert out.record.duration_seconds <= slot * 1.05
    assert out.record.narration == LINE and len(engine.requests) == 1


def test_a_large_overrun_shortens_the_text_at_a_sentence_and_speaks_again():
    engine = RecordingSpeechEngine("kokoro")
    out = synthesize_segment(request(2.5), offline(engine), FakeAudioTools())
    record = out.record
    assert record.fit.action in ("shortened", "tempo") and record.fit.shortened_by == "cut"
    assert record.narration == "车小小走进咖啡厅。" and record.original_narration == LINE
    assert record.fit.attempts == 2 and len(engine.requests) == 2
    assert record.duration_seconds <= 2.5 * 1.05
    assert record.tts_characters["kokoro"] == len(LINE) + len("车小小走进咖啡厅。")


def test_the_rewrite_is_preferred_to_a_cut_when_it_is_shorter():
    asked = []

    def rewrite(text: str, seconds: float, lang: str) -> str:
        asked.append((text, seconds, lang))
        return "两人在咖啡厅愣住了。"

    out = synthesize_segment(request(2.5), offline(), FakeAudioTools(), rewrite)
    assert asked and asked[0][0] == LINE and asked[0][2] == "zh"
    assert out.record.narration == "两人在咖啡厅愣住了。"
    assert out.record.fit.shortened_by == "rewrite"


def test_speech_is_never_sped_up_past_the_limit_even_when_it_cannot_fit():
    tools = FakeAudioTools()
    config = SynthesisConfig(fit_attempts=1, max_tempo=1.15)
    out = synthesize_segment(request(2.0), offline(), tools, config=config)
    assert tools.tempos == [1.15]
    assert out.record.fit.action == "overrun" and out.record.fit.overrun_seconds > 0


def test_a_cloud_template_without_credentials_is_spoken_offline_and_says_why():
    out = synthesize_segment(request(6.0, "chinese_gemini_emotional"),
                         offline(cloud_missing="no Google credentials are configured"),
                         FakeAudioTools())
    assert out.record.engine == "kokoro"
    assert "no Google credentials" in (out.record.fallback_reason or "")


def test_a_cloud_template_with_cloud_tts_sends_model_voice_and_style_prompt():
    cloud = RecordingSpeechEngine("google-tts")
    engines = SpeechEngines(offline=[RecordingSpeechEngine("kokoro")], cloud=cloud)
    out = synthesize_segment(request(6.0, "chinese_gemini_emotional", voice_name="Kore",
                                 model_name="gemini-2.5-flash-tts"), engines,
                         FakeAudioTools())
    sent = cloud.requests[0]
    assert (sent.voice, sent.model, sent.language_code) == \
        ("Kore", "gemini-2.5-flash-tts", "cmn-CN")
    assert sent.prompt and sent.text == LINE
    assert out.record.fallback_reason is None
    assert out.record.tts_characters == {"gemini-2.5-flash-tts": len(LINE)}


def test_the_cloned_voice_uses_its_key_or_says_which_voice_spoke_instead():
    cloud = RecordingSpeechEngine("google-tts")
    keyed = SpeechEngines(offline=[RecordingSpeechEngine()], cloud=cloud,
                         cloning_keys={"chinese_paieas_replication": "key-123"})
    out = synthesize_segment(request(6.0, "chinese_paieas_replication"), keyed, FakeAudioTools())
    assert cloud.requests[-1].cloning_key == "key-123"
    assert out.record.tts_characters == {"instant-custom-voice": len(LINE)}
    unkeyed = SpeechEngines(offline=[RecordingSpeechEngine()], cloud=cloud)
    out = synthesize_segment(request(6.0, "chinese_paieas_replication"), unkeyed, FakeAudioTools())
    assert cloud.requests[-1].cloning_key is None
    assert cloud.requests[-1].voice == "cmn-CN-Chirp3-HD-Leda"
    assert "no instant custom voice key" in (out.record.fallback_reason or "")


def test_a_failing_offline_engine_hands_over_to_the_next_one_and_says_why():
    kokoro = RecordingSpeechEngine("kokoro", refuse="咖啡")
    espeak = RecordingSpeechEngine("espeak-ng")
    out = synthesize_segment(request(6.0), offline(kokoro, espeak), FakeAudioTools())
    assert out.record.engine == "espeak-ng"
    assert "kokoro failed" in (out.record.fallback_reason or "")


def test_a_missing_kokoro_is_named_when_espeak_speaks():
    out = synthesize_segment(request(6.0), offline(
        RecordingSpeechEngine("espeak-ng"),
        offline_missing={"kokoro": "Kokoro is not installed"}), FakeAudioTools())
    assert out.record.fallback_reason == "Kokoro is not installed"


def test_a_refusal_by_cloud_tts_fails_the_segment_rather_than_falling_back():
    cloud = RecordingSpeechEngine("google-tts", refuse="咖啡")
    engines = SpeechEngines(offline=[RecordingSpeechEngine()], cloud=cloud)
    with pytest.raises(TtsError) as caught:
        synthesize_segment(request(6.0, "chinese_chirp3_hd"), engines, FakeAudioTools())
    assert caught.value.message.startswith("Segment 0 (narration_000.wav): ")
    assert caught.value.details["segment"] == 0
    assert caught.value.details["basename"] == "narration_000.wav"


def test_quoted_lines_are_spoken_in_the_character_voice():
    text = "楚昊轩冷冷地说：“你给我站住！”她转身就跑。"
    engine = RecordingSpeechEngine("kokoro")
    out = synthesize_segment(request(8.0, text=text), offline(engine), FakeAudioTools())
    voices = [(r.text, r.voice) for r in engine.requests]
    assert voices[1][0] == "你给我站住！" and voices[1][1] != voices[0][1]
    assert out.record.speakers["楚昊轩"] == voices[1][1]


def test_the_director_adds_delivery_notes_to_the_prompt_and_never_changes_the_words():
    from tests.support.fakes import ScriptedLlm
    from vss.dubbing.director import DeliveryNotes, llm_director

    llm = ScriptedLlm(lambda system, prompt, schema: LlmResult(
        parsed=DeliveryNotes.model_validate({"notes": [
            {"line": 1, "note": "Hushed, then a beat of silence before the last sentence."}]}),
        text=""))
    cloud = RecordingSpeechEngine("google-tts")
    engines = SpeechEngines(offline=[RecordingSpeechEngine()], cloud=cloud)
    out = synthesize_segment(request(6.0, "chinese_gemini_emotional"), engines, FakeAudioTools(),
                         director=llm_director(llm))
    sent = cloud.requests[0]
    assert sent.text == LINE and "Hushed" in (sent.prompt or "")
    assert out.record.delivery_notes == ["Hushed, then a beat of silence before the last "
                                         "sentence."]
    assert LINE in llm.prompts[0][1]


def test_a_director_that_fails_leaves_the_template_style():
    from tests.support.fakes import ScriptedLlm
    from vss.dubbing.director import llm_director
    from vss.errors import LlmError

    def refuse(system: str, prompt: str, schema: type) -> LlmResult:
        raise LlmError("blocked")

    cloud = RecordingSpeechEngine("google-tts")
    engines = SpeechEngines(offline=[RecordingSpeechEngine()], cloud=cloud)
    out = synthesize_segment(request(6.0, "chinese_gemini_emotional"), engines, FakeAudioTools(),
                         director=llm_director(ScriptedLlm(refuse)))
    assert out.record.delivery_notes == [] and cloud.requests[0].prompt


def test_a_line_without_footage_is_spoken_whole_and_never_fitted():
    script = NarrationScript.model_validate({"narration_script": [
        {"narration": LINE * 3, "source_scene_ids": [1]}]})  # the seed's shape: no pacing
    (planned,) = plan_segments(script, DubbingServiceParams(template_name="local_zh"))
    engine = RecordingSpeechEngine("kokoro", pace=0.7)  # far slower than the estimate
    tools = FakeAudioTools()
    out = synthesize_segment(planned, offline(engine), tools)
    assert out.record.fit.action == "unconstrained" and out.record.narration == LINE * 3
    assert tools.tempos == [] and len(engine.requests) == 1


def test_a_part_too_long_for_one_cloud_request_is_sent_in_sentences():
    from vss.dubbing.synthesis import MAX_PART_BYTES

    long_text = "楚昊轩抬起头，淡淡一笑，什么也没有说。" * 80  # ~4.5 kB of UTF-8
    assert len(long_text.encode()) > MAX_PART_BYTES
    cloud = RecordingSpeechEngine("google-tts")
    engines = SpeechEngines(offline=[RecordingSpeechEngine()], cloud=cloud)
    synthesize_segment(request(400.0, "chinese_chirp3_hd", text=long_text), engines,
                   FakeAudioTools())
    assert len(cloud.requests) == 2
    assert all(len(r.text.encode()) <= MAX_PART_BYTES for r in cloud.requests)
    assert "".join(r.text for r in cloud.requests) == long_text


def test_offline_a_character_keeps_one_voice_of_its_gender_across_segments():
    lines = ["楚昊轩说：“站住！”", "车小小说：“我不！”", "楚昊轩说：“你站住！”"]
    script = NarrationScript.model_validate({"lang": "zh", "narration_script": [
        {"narration": t, "source_scene_ids": [i + 1]} for i, t in enumerate(lines)]})
    engine = RecordingSpeechEngine("kokoro")
    for planned in plan_segments(script, DubbingServiceParams(template_name="chinese_chirp3_hd"),
                                 characters=["楚昊轩", "车小小"]):
        synthesize_segment(planned, offline(engine), FakeAudioTools())
    said = {(r.text, r.voice) for r in engine.requests}
    voice_of = {text: voice for text, voice in said}
    assert voice_of["站住！"] == voice_of["你站住！"]
    assert voice_of["站住！"] != voice_of["我不！"]
    # the cloud cast gives 楚昊轩 a female voice (Kore) first: offline too, a female one
    assert voice_of["站住！"] in ("jf_nezumi", "jf_alpha", "jf_tebukuro")
