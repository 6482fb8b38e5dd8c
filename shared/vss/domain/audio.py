"""Audio facts the pipeline needs from a WAV, without decoding it all."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass


@dataclass(frozen=True)
class WavFacts:
    sample_rate: int
    channels: int
    sample_width_bytes: int
    frames: int

    @property
    def duration_seconds(self) -> float:
        return self.frames / float(self.sample_rate)


def wav_facts(data: bytes) -> WavFacts:
    with wave.open(io.BytesIO(data)) as wav:
        return WavFacts(wav.getframerate(), wav.getnchannels(), wav.getsampwidth(),
                        wav.getnframes())


def wav_duration_seconds(data: bytes) -> float:
    return wav_facts(data).duration_seconds
