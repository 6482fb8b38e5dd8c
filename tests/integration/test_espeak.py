"""The espeak-ng adapter behind the Synthesizer port: real subprocess, real WAV facts."""

from __future__ import annotations

import pytest

from vss.adapters.espeak import VOICES, EspeakSynthesizer
from vss.domain.audio import wav_facts
from vss.errors import TtsError


@pytest.mark.parametrize(("lang", "text"), [("zh", "她终于走进了那家咖啡店。"),
                                            ("en", "She finally walks into the cafe.")])
def test_speech_and_its_facts(lang: str, text: str):
    speech = EspeakSynthesizer().synthesize(text, lang=lang, voice="Puck", rate=1.0)
    facts = wav_facts(speech.wav)
    assert speech.engine == "espeak-ng" and speech.voice == VOICES[lang]  # cloud name ignored
    assert (speech.sample_rate, speech.channels) == (facts.sample_rate, facts.channels)
    assert speech.duration_seconds == pytest.approx(facts.duration_seconds)
    assert 1.0 < speech.duration_seconds < 6.0


def test_a_faster_rate_speaks_shorter():
    text = "命运的齿轮开始转动，她却浑然不知。"
    synth = EspeakSynthesizer()
    normal = synth.synthesize(text, lang="zh").duration_seconds
    fast = synth.synthesize(text, lang="zh", rate=1.5).duration_seconds
    assert fast < normal * 0.85


def test_a_missing_binary_is_a_tts_error():
    with pytest.raises(TtsError, match="not installed"):
        EspeakSynthesizer("no-such-espeak").synthesize("x", lang="en")
