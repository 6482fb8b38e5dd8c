"""Post-processing of speech, in memory: decode, resample, trim, loudness and true peak.

Every segment leaves here as 48 kHz mono 16-bit PCM, so the edge can join them with
`ffmpeg -f concat -c copy`. Loudness is integrated loudness per ITU-R BS.1770 (pyloudnorm);
true peak is the sample peak of the signal oversampled 4x (BS.1770-4 Annex 2). Peaks above
the ceiling are held down by a look-ahead limiter, so normalising quiet speech never clips.
"""

from __future__ import annotations

import io
import math
import wave
from dataclasses import dataclass
from math import gcd

import numpy as np
import pyloudnorm
from numpy.typing import NDArray
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from vss.errors import TtsError

__all__ = ["SAMPLE_RATE", "Loudness", "decode_wav", "encode_wav", "integrated_lufs",
           "limit_true_peak", "normalize", "resample", "trim_silence", "true_peak_dbtp"]

SAMPLE_RATE = 48_000
Samples = NDArray[np.float64]

_OVERSAMPLE = 4
_BLOCK_SECONDS = 0.4  # BS.1770 gating block: shorter audio is padded with silence to measure
_FRAME_SECONDS = 0.01
_LOOKAHEAD_SECONDS = 0.005
_RELEASE_SECONDS = 0.02
# The limiter aims this far under the ceiling: gain is applied per sample, and what lies
# between samples can rise a little above the limited samples.
_LIMIT_MARGIN_DB = 0.3


def decode_wav(data: bytes) -> tuple[Samples, int]:
    """Mono float samples in [-1, 1] and the sample rate of a PCM WAV (8/16/24/32-bit)."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise TtsError("The speech engine returned audio that is not a PCM WAV.",
                       details={"reason": str(exc)}) from None
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128) / 128
    elif width == 3:
        bytes3 = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        ints = (bytes3[:, 0].astype(np.int32) | (bytes3[:, 1].astype(np.int32) << 8)
                | (bytes3[:, 2].astype(np.int8).astype(np.int32) << 16))
        samples = ints / float(1 << 23)
    elif width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0
    else:
        samples = np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648.0
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples, rate


def encode_wav(samples: Samples, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono PCM WAV."""
    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return buffer.getvalue()


def resample(samples: Samples, rate: int, target: int = SAMPLE_RATE) -> Samples:
    """Polyphase resampling (anti-aliased), e.g. 24 kHz speech to 48 kHz."""
    if rate == target or samples.size == 0:
        return samples
    common = gcd(rate, target)
    return np.asarray(resample_poly(samples, target // common, rate // common), np.float64)


def trim_silence(samples: Samples, rate: int, *, threshold_db: float = -40.0,
                 pad_seconds: float = 0.05) -> Samples:
    """Without the leading and trailing silence: frames quieter than `threshold_db` under the
    loudest 10 ms frame, keeping `pad_seconds` so no consonant is clipped."""
    frame = max(1, int(rate * _FRAME_SECONDS))
    count = samples.size // frame
    if count == 0:
        return samples
    energy = np.sqrt(np.mean(samples[:count * frame].reshape(count, frame) ** 2, axis=1))
    loudest = float(energy.max())
    if loudest <= 0:
        return samples[:0]
    voiced = np.flatnonzero(energy >= loudest * 10 ** (threshold_db / 20))
    pad = int(rate * pad_seconds)
    start = max(0, int(voiced[0]) * frame - pad)
    end = min(samples.size, (int(voiced[-1]) + 1) * frame + pad)
    return np.asarray(samples[start:end], np.float64)


def _padded(samples: Samples, rate: int) -> Samples:
    short = int(rate * _BLOCK_SECONDS) + 1 - samples.size
    return np.concatenate([samples, np.zeros(short)]) if short > 0 else samples


def integrated_lufs(samples: Samples, rate: int) -> float:
    """Integrated loudness, LUFS (ITU-R BS.1770-4, gated); -inf for silence."""
    meter = pyloudnorm.Meter(rate)
    return float(meter.integrated_loudness(_padded(samples, rate)))


def _oversampled_peaks(samples: Samples) -> Samples:
    """Per input sample, the largest magnitude of the 4x oversampled signal around it."""
    up = np.abs(resample_poly(samples, _OVERSAMPLE, 1))[: samples.size * _OVERSAMPLE]
    # The maximum over each sample's 4 phases, as one pass per phase: `reshape(-1, 4).max(
    # axis=1)` reduces 4-element rows one by one and took most of a segment's processing.
    peaks = np.abs(samples)
    for phase in range(_OVERSAMPLE):
        np.maximum(peaks, up[phase::_OVERSAMPLE], out=peaks)
    return np.asarray(peaks, np.float64)


def true_peak_dbtp(samples: Samples, rate: int = SAMPLE_RATE) -> float:
    """True peak in dBTP (4x oversampling; -inf for silence)."""
    if samples.size == 0:
        return -math.inf
    peak = float(_oversampled_peaks(samples).max())
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def limit_true_peak(samples: Samples, rate: int, ceiling_dbtp: float) -> Samples:
    """A look-ahead peak limiter: the gain at each sample is at most what keeps every true
    peak within `ceiling_dbtp`, and moves smoothly (no clicks). The gain curve is a moving
    minimum then a moving average of half its width, so it never exceeds what a peak needs."""
    ceiling = 10 ** ((ceiling_dbtp - _LIMIT_MARGIN_DB) / 20)
    peaks = _oversampled_peaks(samples)
    if peaks.size == 0 or float(peaks.max()) <= ceiling:
        return samples
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    reach = max(1, int(rate * max(_LOOKAHEAD_SECONDS, _RELEASE_SECONDS)))
    gain = uniform_filter1d(minimum_filter1d(need, 2 * reach + 1, mode="nearest"),
                            reach + 1, mode="nearest")
    return np.asarray(samples * np.minimum(gain, need), np.float64)


@dataclass(frozen=True)
class Loudness:
    lufs: float
    true_peak_dbtp: float


def measure(samples: Samples, rate: int = SAMPLE_RATE) -> Loudness:
    return Loudness(integrated_lufs(samples, rate), true_peak_dbtp(samples, rate))


def normalize(samples: Samples, rate: int, *, target_lufs: float, tolerance_lu: float,
              ceiling_dbtp: float, rounds: int = 5) -> Samples:
    """Gain to `target_lufs` with true peaks limited to `ceiling_dbtp`; limiting lowers the
    loudness a little, so gain and limiter alternate until both hold (a few rounds)."""
    current = integrated_lufs(samples, rate)
    if not math.isfinite(current):
        raise TtsError("The speech engine returned silence.")
    out = samples
    for _ in range(rounds):
        out = limit_true_peak(out * 10 ** ((target_lufs - current) / 20), rate, ceiling_dbtp)
        current = integrated_lufs(out, rate)
        if abs(current - target_lufs) <= tolerance_lu / 2:
            break
    return out
