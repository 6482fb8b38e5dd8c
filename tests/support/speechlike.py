"""Speech-like test audio without a speech engine: one voiced burst per spoken unit at the
language's speech rate, a pause at each sentence and clause mark, as a PCM16 WAV. Loud and
peaky like speech (harmonics under a syllable envelope), so loudness, limiting, trimming and
pause detection have something real to measure."""

from __future__ import annotations

import numpy as np

from vss.domain.language import (
    ALL_PAUSE_MARKS,
    ALL_SENTENCE_ENDS,
    language_profile,
    speech_units,
)
from vss.dubbing.audio import encode_wav

PAUSE_SECONDS = {"sentence": 0.35, "clause": 0.15}


def _chunks(text: str) -> list[tuple[str, str | None]]:
    """(text, pause after it) pieces at each mark."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char in ALL_SENTENCE_ENDS or char in ALL_PAUSE_MARKS:
            pieces.append((current, "sentence" if char in ALL_SENTENCE_ENDS else "clause"))
            current = ""
    if current.strip():
        pieces.append((current, None))
    return pieces


def speech_like_samples(text: str, lang: str, *, rate: float = 1.0, sample_rate: int = 24_000,
                        level: float = 0.3, lead_silence: float = 0.2) -> np.ndarray:
    lang = lang if lang in ("zh", "en", "fr") else "en"
    per_unit = 1.0 / (language_profile(lang if lang != "fr" else "en").units_per_second * rate)
    out = [np.zeros(int(lead_silence * sample_rate))]
    for piece, pause in _chunks(text):
        units = speech_units(piece, lang if lang != "fr" else "en")
        n = int(units * per_unit * sample_rate)
        if n:
            t = np.arange(n) / sample_rate
            voice = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420), 1))
            syllables = np.abs(np.sin(np.pi * t / per_unit)) ** 0.6
            out.append(level * voice * syllables / 1.8)
        if pause:
            out.append(np.zeros(int(PAUSE_SECONDS[pause] / rate * sample_rate)))
    out.append(np.zeros(int(lead_silence * sample_rate)))
    return np.concatenate(out)


def speech_like_wav(text: str, lang: str, *, rate: float = 1.0, sample_rate: int = 24_000,
                    level: float = 0.3) -> bytes:
    return encode_wav(speech_like_samples(text, lang, rate=rate, sample_rate=sample_rate,
                                         level=level), sample_rate)
