"""Fakes of the dubbing ports for unit tests: a speech engine that records its requests and
answers speech-like audio, and audio tools that change tempo without FFmpeg."""

from __future__ import annotations

import numpy as np

from tests.support.speechlike import speech_like_wav
from vss.dubbing.audio import decode_wav, encode_wav
from vss.errors import TtsError
from vss.ports import SpeechAudio, SpeechRequest


class RecordingSpeechEngine:
    """Speaks every request as speech-like audio at the language's default rate times
    `request.rate` times `pace` (pace < 1: a slower voice, to provoke fitting). A text
    containing `refuse` raises TtsError."""

    def __init__(self, name: str = "fake-engine", *, pace: float = 1.0, sample_rate: int = 24_000,
                 refuse: str | None = None) -> None:
        self.name = name
        self.pace = pace
        self.sample_rate = sample_rate
        self.refuse = refuse
        self.requests: list[SpeechRequest] = []
        # text -> errors to raise, one per request of a text containing it, before success
        self.failures: dict[str, list[Exception]] = {}

    def speak(self, request: SpeechRequest) -> SpeechAudio:
        self.requests.append(request)
        for text, errors in self.failures.items():
            if text in request.text and errors:
                raise errors.pop(0)
        if self.refuse is not None and self.refuse in request.text:
            raise TtsError(f"{self.name} refuses this text")
        wav = speech_like_wav(request.text, request.lang, rate=request.rate * self.pace,
                              sample_rate=self.sample_rate)
        samples = (len(wav) - 44) // 2
        return SpeechAudio(wav=wav, sample_rate=self.sample_rate, channels=1,
                           duration_seconds=samples / self.sample_rate, engine=self.name,
                           voice=request.voice or f"default-{request.lang}")


class FakeAudioTools:
    """Tempo by linear interpolation (it shifts pitch, which a fake may); records factors."""

    def __init__(self) -> None:
        self.tempos: list[float] = []

    def change_tempo(self, wav: bytes, factor: float) -> bytes:
        self.tempos.append(factor)
        samples, rate = decode_wav(wav)
        positions = np.arange(0, samples.size - 1, factor)
        return encode_wav(np.interp(positions, np.arange(samples.size), samples), rate)
