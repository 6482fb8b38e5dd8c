"""Offline TTS with espeak-ng: instant and deterministic, robotic. The default when no cloud
TTS is configured, so the whole workflow runs on one machine."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from vss.domain.audio import wav_facts
from vss.errors import TtsError
from vss.ports import SpeechAudio, SpeechRequest

# Debian's `cmn`/`zh` voices read pinyin tone digits as English; this one reads hanzi properly.
VOICES = {"zh": "cmn-latn-pinyin", "en": "en-us", "fr": "fr-fr"}
# espeak's `-s` per voice, calibrated so rate 1.0 speaks at the pacing model's speech rate
# (zh ≈ 4.5 chars/s, en ≈ 2.5 words/s); its default 175 gives only ~3.4 hanzi/s.
BASE_WPM = {"zh": 200, "en": 145, "fr": 160}


class EspeakSpeechEngine:
    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng") -> None:
        self._binary = binary

    def synthesize(self, text: str, *, lang: str, voice: str | None = None,
                   rate: float = 1.0) -> SpeechAudio:
        """16-bit mono WAV of `text`; `rate` 1.0 is the engine's normal pace. A voice that is
        not one of espeak's (a cloud voice name) falls back to the language's voice."""
        if shutil.which(self._binary) is None:
            raise TtsError(f"{self._binary} is not installed (apt-get install espeak-ng).")
        if voice is None or voice not in VOICES.values():
            voice = VOICES.get(lang, VOICES["en"])
        wpm = BASE_WPM.get(lang, BASE_WPM["en"])
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "speech.wav"
            proc = subprocess.run(
                [self._binary, "-v", voice, "-s", str(round(wpm * rate)),
                 "-w", str(out), "--stdin"],
                input=text.encode(), capture_output=True, timeout=120, check=False,
            )
            if proc.returncode != 0 or not out.exists():
                raise TtsError("espeak-ng failed.", details={"stderr": proc.stderr.decode()[-300:]})
            wav = out.read_bytes()
        facts = wav_facts(wav)
        return SpeechAudio(wav=wav, sample_rate=facts.sample_rate, channels=facts.channels,
                           duration_seconds=facts.duration_seconds, engine=self.name, voice=voice)

    def speak(self, request: SpeechRequest) -> SpeechAudio:
        """The SpeechEngine port: cloud-only fields (model, prompt, clone) do not apply."""
        return self.synthesize(request.text, lang=request.lang, voice=request.voice,
                               rate=request.rate)
