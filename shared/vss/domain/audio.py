"""Audio facts the pipeline needs from a WAV, without decoding it all."""

from __future__ import annotations

import io
import wave


def wav_duration_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / float(wav.getframerate())
