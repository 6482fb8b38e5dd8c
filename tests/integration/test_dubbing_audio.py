"""Real engines and tools: Kokoro and espeak-ng speak, FFmpeg changes tempo, and the synthesised
segments are checked with independent measurements (FFmpeg's ebur128 and ffprobe)."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pysubs2
import pytest

from vss.adapters.espeak import EspeakSpeechEngine
from vss.adapters.ffmpeg import FfmpegAudioTools
from vss.adapters.kokoro import KokoroSpeechEngine, default_voice
from vss.adapters.tts import audio_tools_from_settings, speech_engines_from_settings
from vss.config import Settings
from vss.domain.artifacts import NarrationScript
from vss.domain.audio import wav_facts
from vss.domain.payloads import DubbingServiceParams
from vss.dubbing.assemble import assemble
from vss.dubbing.audio import decode_wav, encode_wav, resample
from vss.dubbing.plan import plan_segments
from vss.dubbing.synthesis import synthesize_segment
from vss.ports import SpeechRequest

ZH = "车小小走进咖啡厅，一眼就看见了坐在窗边的楚昊轩。她强装镇定，慢慢走了过去。"
EN = "She walks into the cafe and sees him by the window. She keeps calm and walks over."
FR = "Elle entre dans le café et le voit près de la fenêtre."


@pytest.fixture(scope="module")
def kokoro(tmp_path_factory: pytest.TempPathFactory) -> KokoroSpeechEngine:
    return KokoroSpeechEngine(tmp_path_factory.mktemp("kokoro"))


def ebur128(wav: bytes) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) as FFmpeg measures them."""
    with tempfile.NamedTemporaryFile(suffix=".wav") as handle:
        handle.write(wav)
        handle.flush()
        done = subprocess.run(
            ["ffmpeg", "-hide_banner", "-nostats", "-i", handle.name, "-af",
             "ebur128=peak=true", "-f", "null", "-"],
            capture_output=True, text=True, check=True, timeout=60)
    summary = done.stderr[done.stderr.rindex("Summary:"):]
    lufs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary)[1])  # type: ignore[index]
    peak = float(re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)[1])  # type: ignore[index]
    return lufs, peak


def ffprobe(wav: bytes) -> dict[str, object]:
    with tempfile.NamedTemporaryFile(suffix=".wav") as handle:
        handle.write(wav)
        handle.flush()
        done = subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-of", "json", handle.name],
            capture_output=True, text=True, check=True, timeout=30)
    return dict(json.loads(done.stdout)["streams"][0])


@pytest.mark.parametrize(("lang", "text", "seconds"), [("zh", ZH, (6, 14)), ("en", EN, (3, 9)),
                                                       ("fr", FR, (1.5, 6))])
def test_kokoro_speaks_each_language_at_a_human_pace(kokoro, lang, text, seconds):
    speech = kokoro.speak(SpeechRequest(text=text, lang=lang, voice=default_voice(lang)))
    facts = wav_facts(speech.wav)
    assert (facts.sample_rate, facts.channels, speech.engine) == (24_000, 1, "kokoro")
    assert seconds[0] < speech.duration_seconds < seconds[1]
    samples, _ = decode_wav(speech.wav)
    frames = np.sqrt(np.mean(samples[: samples.size // 240 * 240].reshape(-1, 240) ** 2, 1))
    voiced = frames > frames.max() * 0.1
    assert 0.5 < voiced.mean() < 0.97  # speech with pauses, not silence or a constant tone


def test_kokoro_is_deterministic_and_follows_the_rate(kokoro):
    first = kokoro.speak(SpeechRequest(text=ZH, lang="zh"))
    again = kokoro.speak(SpeechRequest(text=ZH, lang="zh"))
    faster = kokoro.speak(SpeechRequest(text=ZH, lang="zh", rate=1.3))
    assert first.wav == again.wav
    assert faster.duration_seconds < first.duration_seconds * 0.85
    assert first.voice == default_voice("zh")  # the language's narrator, named in the record


def test_latin_words_inside_chinese_are_read_not_dropped(kokoro):
    plain = kokoro.speak(SpeechRequest(text="她拿出手机。", lang="zh")).duration_seconds
    brand = kokoro.speak(SpeechRequest(text="她拿出iPhone手机。", lang="zh")).duration_seconds
    assert brand > plain + 0.2


INTELLIGIBLE = [
    "She walks into the cafe and sees him by the window. She keeps calm and walks over.",
    "He hands her his business card, and only then does she realise who he is.",
    "The next morning, the whole office is talking about the new president.",
]


def recognised_words(wav: bytes) -> set[str]:
    """What PocketSphinx (its bundled US English model) hears in the speech."""
    from pocketsphinx import Decoder

    samples, rate = decode_wav(wav)
    pcm = (np.clip(resample(samples, rate, 16_000), -1, 1) * 32767).astype("<i2").tobytes()
    decoder = Decoder(samprate=16_000, loglevel="FATAL")
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    return set(decoder.hyp().hypstr.split()) if decoder.hyp() else set()


def word_recall(engine: object, voice: str | None) -> float:
    found = total = 0
    for text in INTELLIGIBLE:
        words = {w.strip(".,").lower() for w in text.split()}
        heard = recognised_words(engine.speak(  # type: ignore[attr-defined]
            SpeechRequest(text=text, lang="en", voice=voice)).wav)
        found += len(words & heard)
        total += len(words)
    return found / total


def test_the_offline_english_narrator_is_understood_by_a_speech_recogniser(kokoro):
    """An independent listener: most words of Kokoro's English narrator are recognised (the
    robotic espeak-ng fallback, measured the same way, loses most of them)."""
    from vss.dubbing.templates import load_templates

    narrator = load_templates().templates["local_en"].narrator.voice
    kokoro_recall = word_recall(kokoro, narrator)
    espeak_recall = word_recall(EspeakSpeechEngine(), None)
    assert kokoro_recall >= 0.7, kokoro_recall
    assert kokoro_recall > espeak_recall + 0.3, (kokoro_recall, espeak_recall)


def test_espeak_speaks_french_as_the_last_fallback():
    speech = EspeakSpeechEngine().speak(SpeechRequest(text=FR, lang="fr", voice="jf_alpha"))
    assert speech.voice == "fr-fr" and speech.duration_seconds > 1.5


def test_ffmpeg_changes_tempo_and_keeps_the_pitch():
    rate = 48_000
    t = np.arange(2 * rate) / rate
    tone = encode_wav(0.5 * np.sin(2 * np.pi * 220 * t), rate)
    faster = FfmpegAudioTools().change_tempo(tone, 1.15)
    samples, out_rate = decode_wav(faster)
    assert out_rate == rate
    assert samples.size / rate == pytest.approx(2 / 1.15, abs=0.03)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    assert np.fft.rfftfreq(samples.size, 1 / rate)[spectrum.argmax()] == pytest.approx(220, abs=3)


def test_offline_dubbing_meets_loudness_format_and_fit_by_independent_measures():
    settings = Settings(tts_provider="offline", tts_offline_engines="kokoro,espeak-ng",
                        kokoro_model_dir=Path(tempfile.gettempdir()) / "vss-kokoro-tests")
    engines = speech_engines_from_settings(settings)
    assert [e.name for e in engines.offline] == ["kokoro", "espeak-ng"]
    script = NarrationScript.model_validate({"lang": "zh", "narration_script": [
        {"narration": ZH, "source_scene_ids": [1],
         "pacing": {"footage_seconds": 12, "budget_seconds": 11, "estimated_seconds": 7,
                    "speech_rate": 4.5, "action": "fits"}},
        # far too long for 4 s: shortened at a sentence, then fitted
        {"narration": ZH + "楚昊轩抬起头，淡淡一笑。", "source_scene_ids": [2],
         "pacing": {"footage_seconds": 5, "budget_seconds": 4, "estimated_seconds": 8,
                    "speech_rate": 4.5, "action": "fits"}}]})
    requests = plan_segments(script, DubbingServiceParams(template_name="chinese_chirp3_hd",
                                                          speed=1.0))
    out = [synthesize_segment(r, engines, audio_tools_from_settings(settings)) for r in requests]
    for segment, request in zip(out, requests, strict=True):
        stream = ffprobe(segment.wav)
        assert (stream["sample_rate"], stream["channels"], stream["codec_name"]) == \
            ("48000", 1, "pcm_s16le")
        lufs, peak = ebur128(segment.wav)
        assert abs(lufs + 16) <= 1.0 and peak <= -1.0
        assert float(stream["duration"]) <= request.slot_seconds * 1.05 + 0.01  # type: ignore
        assert segment.record.engine == "kokoro"
        assert "no Google credentials" in (segment.record.fallback_reason or "") or \
            "offline" in (segment.record.fallback_reason or "")
    assert out[1].record.fit.action in ("shortened", "tempo")
    assert out[1].record.fit.tempo <= 1.15
    assembly = assemble([s.record for s in out], [s.wav for s in out],
                        audio_paths=[s.record.basename for s in out], template_name="x",
                        prices=settings.tts_prices)
    subs = pysubs2.SSAFile.from_string(assembly.vtt, format_="vtt")
    assert subs[-1].end / 1000 == pytest.approx(float(ffprobe(assembly.track_wav)["duration"]),
                                                abs=0.01)


def test_the_edge_can_join_the_segments_with_concat_copy(tmp_path):
    """The edge saves each WAV under its basename and runs `ffmpeg -f concat -c copy`: that
    works only when every segment has the same format, whatever engine spoke it."""
    from tests.support.fake_audio import FakeAudioTools, RecordingSpeechEngine
    from vss.ports import SpeechEngines

    script = NarrationScript.model_validate({"narration_script": [
        {"narration": text, "source_scene_ids": [i + 1]}
        for i, text in enumerate([ZH, "她转身离开。", ZH[:20] + "。"])]})
    requests = plan_segments(script, DubbingServiceParams(template_name="local_zh"))
    engines = [RecordingSpeechEngine("a", sample_rate=22_050),
               RecordingSpeechEngine("b", sample_rate=24_000),
               RecordingSpeechEngine("c", sample_rate=48_000)]
    synthesized = [synthesize_segment(r, SpeechEngines(offline=[engine]), FakeAudioTools())
                for r, engine in zip(requests, engines, strict=True)]
    listing = tmp_path / "list.txt"
    for segment in synthesized:
        (tmp_path / segment.record.basename).write_bytes(segment.wav)
    listing.write_text("".join(f"file '{s.record.basename}'\n" for s in synthesized))
    joined = tmp_path / "joined.wav"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "concat", "-safe", "0",
                    "-i", str(listing), "-c", "copy", str(joined)], check=True, timeout=60)
    total = sum(s.record.duration_seconds for s in synthesized)
    assert float(ffprobe(joined.read_bytes())["duration"]) == pytest.approx(total, abs=0.01)
