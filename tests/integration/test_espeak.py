"""The espeak-ng adapter behind the SpeechEngine port: real subprocess, real WAV facts."""

from __future__ import annotations

import pytest

from vss.adapters.espeak import VOICES, EspeakSpeechEngine
from vss.domain.audio import wav_facts
from vss.domain.language import language_profile, speech_units
from vss.errors import TtsError


@pytest.mark.parametrize(("lang", "text"), [("zh", "她终于走进了那家咖啡店。"),
                                            ("en", "She finally walks into the cafe."),
                                            ("fr", "Elle entre enfin dans le café.")])
def test_speech_and_its_facts(lang: str, text: str):
    speech = EspeakSpeechEngine().synthesize(text, lang=lang, voice="Puck", rate=1.0)
    facts = wav_facts(speech.wav)
    assert speech.engine == "espeak-ng" and speech.voice == VOICES[lang]  # cloud name ignored
    assert (speech.sample_rate, speech.channels) == (facts.sample_rate, facts.channels)
    assert speech.duration_seconds == pytest.approx(facts.duration_seconds)
    assert 1.0 < speech.duration_seconds < 6.0


@pytest.mark.parametrize(("lang", "text"), [
    ("fr", "Che Xiaoxiao arrive au rendez-vous déguisée en héritière. Elle compte faire fuir "
           "le prétendant, mais le président Chu Haoxuan ne se laisse pas impressionner."),
    ("en", "Che Xiaoxiao arrives at the blind date dressed as an heiress. She plans to scare "
           "the suitor away, but the president Chu Haoxuan is not impressed at all."),
])
def test_rate_one_speaks_at_the_pacing_rate(lang: str, text: str):
    # Pacing budgets text at the profile's rate; the voice must speak it in about that time.
    speech = EspeakSpeechEngine().synthesize(text, lang=lang)
    expected = speech_units(text, lang) / language_profile(lang).units_per_second
    assert speech.duration_seconds == pytest.approx(expected, rel=0.15)


def test_a_faster_rate_speaks_shorter():
    text = "命运的齿轮开始转动，她却浑然不知。"
    synth = EspeakSpeechEngine()
    normal = synth.synthesize(text, lang="zh").duration_seconds
    fast = synth.synthesize(text, lang="zh", rate=1.5).duration_seconds
    assert fast < normal * 0.85


def test_a_missing_binary_is_a_tts_error():
    with pytest.raises(TtsError, match="not installed"):
        EspeakSpeechEngine("no-such-espeak").synthesize("x", lang="en")
