"""Assembly of synthesised segments: timeline, narration track, subtitles, usage; and the audio
maths the segments rely on."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pysubs2
import pytest

from tests.support.fake_audio import FakeAudioTools, RecordingSpeechEngine
from tests.support.speechlike import speech_like_samples
from vss.config import Settings
from vss.domain.artifacts import DubbingScript, NarrationScript
from vss.domain.payloads import DubbingServiceParams
from vss.dubbing.assemble import assemble, usage_of
from vss.dubbing.audio import (
    decode_wav,
    integrated_lufs,
    limit_true_peak,
    normalize,
    resample,
    trim_silence,
    true_peak_dbtp,
)
from vss.dubbing.plan import plan_segments
from vss.dubbing.synthesis import SynthesizedSegment, synthesize_segment
from vss.errors import TtsError
from vss.ports import SpeechEngines

LINES = ["车小小走进咖啡厅，一眼就看见了坐在窗边的楚昊轩，心里咯噔一下。她强装镇定。",
         "楚昊轩递上名片。她这才发现，眼前的相亲对象竟是自己公司的新总裁。",
         "她借口去洗手间，想给闺蜜打电话求救。"]


@pytest.fixture(scope="module")
def synthesized() -> list[SynthesizedSegment]:
    script = NarrationScript.model_validate({"lang": "zh", "narration_script": [
        {"narration": text, "source_scene_ids": [i + 1],
         "pacing": {"footage_seconds": 20, "budget_seconds": 18, "estimated_seconds": 8,
                    "speech_rate": 4.5, "action": "fits"}} for i, text in enumerate(LINES)]})
    engines = SpeechEngines(offline=[RecordingSpeechEngine("kokoro")])
    return [synthesize_segment(r, engines, FakeAudioTools())
            for r in plan_segments(script, DubbingServiceParams(template_name="local_zh"))]


def built(synthesized: list[SynthesizedSegment]):
    return assemble([r.record for r in synthesized], [r.wav for r in synthesized],
                    audio_paths=[f"t1/dubbing/{r.record.basename}" for r in synthesized],
                    template_name="local_zh", prices=Settings().tts_prices,
                    track_path="t1/dubbing/narration_track.wav",
                    srt_path="t1/dubbing/subtitles.srt", vtt_path="t1/dubbing/subtitles.vtt")


def test_segments_lie_back_to_back_on_the_track(synthesized):
    assembly = built(synthesized)
    items = assembly.script.dubbing_script
    assert items[0].start_seconds == 0.0
    for before, after in itertools.pairwise(items):
        assert after.start_seconds == pytest.approx(before.end_seconds, abs=0.002)
    track, rate = decode_wav(assembly.track_wav)
    assert rate == 48_000
    assert track.size / rate == pytest.approx(assembly.script.total_duration, abs=0.002)
    assert assembly.script.total_duration == pytest.approx(
        sum(i.duration_seconds for i in items), abs=0.005)
    assert [i.audio_file_path for i in items] == [
        f"t1/dubbing/narration_{n:03d}.wav" for n in range(3)]
    assert items[1].fit is not None and items[1].loudness is not None


def test_subtitles_parse_and_follow_the_audio(synthesized):
    assembly = built(synthesized)
    items = assembly.script.dubbing_script
    for text, fmt in ((assembly.srt, "srt"), (assembly.vtt, "vtt")):
        subs = pysubs2.SSAFile.from_string(text, format_=fmt)
        assert subs[0].start == 0
        assert subs[-1].end == pytest.approx(assembly.script.total_duration * 1000, abs=2)
        for event, following in itertools.pairwise(subs):
            assert event.start < event.end <= following.start
        # every cue lies inside the segment whose words it shows
        for event in subs:
            owner = next(i for i in items if event.plaintext.rstrip("，,") in i.narration)
            assert owner.start_seconds * 1000 - 2 <= event.start
            assert event.end <= owner.end_seconds * 1000 + 2
        assert "她强装镇定。" in [e.plaintext for e in subs]


def test_cue_boundaries_fall_in_the_pauses_of_the_speech(synthesized):
    assembly = built(synthesized)
    subs = pysubs2.SSAFile.from_string(assembly.srt, format_="srt")
    track, rate = decode_wav(assembly.track_wav)
    loud = np.abs(track).max()
    inner = [e.end for e in subs[:-1]]
    for ms in inner:
        window = track[int((ms / 1000 - 0.02) * rate): int((ms / 1000 + 0.02) * rate)]
        assert np.abs(window).max() < loud * 0.1, f"cue boundary at {ms} ms cuts a word"


def test_usage_counts_characters_per_family_and_prices_them():
    from vss.domain.segments import SegmentRecord

    base = {"basename": "a.wav", "narration": "x", "source_scene_ids": [1], "lang": "zh",
            "duration_seconds": 1.0, "engine": "google-tts", "voice": "v",
            "fit": {"slot_seconds": 1, "slot_source": "budget", "raw_duration_seconds": 1,
                    "action": "fits"},
            "loudness": {"lufs": -16, "true_peak_dbtp": -1.5}}
    records = [SegmentRecord.model_validate({**base, "index": 0,
                                             "tts_characters": {"chirp3-hd": 600_000}}),
               SegmentRecord.model_validate({**base, "index": 1, "basename": "b.wav",
                                             "tts_characters": {"chirp3-hd": 400_000,
                                                                "kokoro": 50}})]
    usage = usage_of(records, {"chirp3-hd": 30.0})
    assert usage.tts_characters == {"chirp3-hd": 1_000_000, "kokoro": 50}
    assert usage.cost_usd == pytest.approx(30.0)


def test_the_edges_own_copy_with_its_extra_keys_still_validates(synthesized):
    data = built(synthesized).script.model_dump(mode="json")
    for item in data["dubbing_script"]:
        item.update(local_audio_path=f"/edge/media/{item['audio_file_path']}", error=None)
    copy = DubbingScript.model_validate(data)
    assert copy.dubbing_script[0].model_extra == {
        "local_audio_path": "/edge/media/t1/dubbing/narration_000.wav", "error": None}


def test_repeated_basenames_are_refused(synthesized):
    twice = [synthesized[0], synthesized[0]]
    with pytest.raises(ValueError, match="basenames repeat"):
        assemble([r.record for r in twice], [r.wav for r in twice], audio_paths=["a", "b"],
                 template_name="x", prices={})


# --- audio maths -------------------------------------------------------------------------


def test_the_limiter_holds_true_peaks_under_the_ceiling():
    rate = 48_000
    t = np.arange(rate) / rate
    # a quarter of the sample rate at 45°: every sample is at 0.707 of the wave's peak, so the
    # samples stay under 0 dBFS while the wave between them passes it (+1.6 dBTP)
    tone = np.sin(2 * np.pi * 12_000 * t + np.pi / 4) * 1.2
    assert true_peak_dbtp(tone) > 0.0 > 20 * math.log10(np.abs(tone).max())
    assert true_peak_dbtp(limit_true_peak(tone, rate, -1.0)) <= -1.0


def test_normalising_reaches_the_target_without_passing_the_ceiling():
    quiet = speech_like_samples("她转身离开了咖啡厅，没有回头。", "zh", sample_rate=48_000,
                                level=0.02)
    out = normalize(quiet, 48_000, target_lufs=-16, tolerance_lu=1, ceiling_dbtp=-1)
    assert abs(integrated_lufs(out, 48_000) + 16) <= 0.5
    assert true_peak_dbtp(out) <= -1.0


def test_silence_cannot_be_normalised():
    with pytest.raises(TtsError, match="silence"):
        normalize(np.zeros(48_000), 48_000, target_lufs=-16, tolerance_lu=1, ceiling_dbtp=-1)


def test_trimming_keeps_the_speech_and_a_short_pad():
    speech = speech_like_samples("你好", "zh", sample_rate=48_000)  # 0.2 s silence each end
    voiced = 2 / 4.5
    trimmed = trim_silence(speech, 48_000).size / 48_000
    assert speech.size / 48_000 == pytest.approx(voiced + 0.4, abs=0.01)
    assert voiced - 0.05 <= trimmed <= voiced + 0.1 + 0.01  # 50 ms pads, 10 ms frames


def test_resampling_keeps_the_duration():
    samples = speech_like_samples("你好。", "zh", sample_rate=24_000)
    assert resample(samples, 24_000).size == samples.size * 2
