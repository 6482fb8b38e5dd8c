"""Assembly: from the synthesised segments, in order, the dubbing script, the full narration
track, SRT and WebVTT subtitles, and the usage.

Segments follow each other with no gap, as the edge joins them (`ffmpeg -f concat -c copy`),
so a segment's offset on the track is the sum of the durations before it. Subtitle cues are
sentences (long ones split at clause marks); each cue boundary inside a segment is placed in
proportion to the spoken units before it, then moved to the nearest pause in the audio.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pysubs2

from vss.domain.artifacts import DubbingScript, DubbingSegment, DubbingUsage
from vss.domain.language import (
    ALL_PAUSE_MARKS,
    char_class,
    speech_units,
    split_sentences,
)
from vss.domain.segments import SegmentRecord
from vss.dubbing import audio as post

__all__ = ["Assembly", "Cue", "assemble", "subtitle_cues", "usage_of"]

# Longest cue, in spoken units, before a sentence is split at its clauses.
_MAX_CUE_UNITS = {"zh": 22, "en": 14, "fr": 14}
_AFTER_CLAUSE = re.compile(f"(?<={char_class(ALL_PAUSE_MARKS)})")
_PAUSE_DB = -35.0  # under the loudest 10 ms frame: a pause between words
_MIN_PAUSE_SECONDS = 0.08
_SNAP_SECONDS = 0.6  # farthest a cue boundary moves to meet a pause


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Assembly:
    script: DubbingScript
    track_wav: bytes
    srt: str
    vtt: str


def usage_of(records: Sequence[SegmentRecord], prices: Mapping[str, float]) -> DubbingUsage:
    """Characters per voice family or engine, and their cost at `prices` (USD per 1M
    characters; an engine not listed is free: the offline ones)."""
    characters: dict[str, int] = {}
    for record in records:
        for family, count in record.tts_characters.items():
            characters[family] = characters.get(family, 0) + count
    cost = sum(count * prices.get(family, 0.0) / 1e6 for family, count in characters.items())
    return DubbingUsage(tts_characters=dict(sorted(characters.items())),
                        cost_usd=round(cost, 6))


def _cue_texts(text: str, lang: str) -> list[str]:
    """Sentences; one longer than a cue holds is split at its clause marks."""
    limit = _MAX_CUE_UNITS.get(lang, 14)
    cues: list[str] = []
    for sentence in split_sentences(text, lang if lang in _MAX_CUE_UNITS else None):
        current = ""
        # The split is zero-width after each mark, so joining the pieces gives the sentence.
        for clause in _AFTER_CLAUSE.split(sentence):
            if current.strip() and speech_units(current + clause, lang) > limit:
                cues.append(current.strip())
                current = ""
            current += clause
        if current.strip():
            cues.append(current.strip())
    return cues or [text.strip()]


def _pauses(samples: np.ndarray, rate: int) -> list[float]:
    """Centres (seconds) of the quiet stretches inside the speech."""
    frame = int(rate * 0.01)
    count = samples.size // frame
    if count < 3:
        return []
    energy = np.sqrt(np.mean(samples[:count * frame].reshape(count, frame) ** 2, axis=1))
    quiet = energy < energy.max() * 10 ** (_PAUSE_DB / 20)
    centres, start = [], None
    for i, is_quiet in enumerate([*quiet.tolist(), False]):
        if is_quiet and start is None:
            start = i
        elif not is_quiet and start is not None:
            if (i - start) * 0.01 >= _MIN_PAUSE_SECONDS and start > 0 and i < count:
                centres.append((start + i) / 2 * 0.01)
            start = None
    return centres


def subtitle_cues(record: SegmentRecord, wav: bytes, offset: float) -> list[Cue]:
    """The segment's cues on the track's timeline."""
    texts = _cue_texts(record.narration, record.lang)
    samples, rate = post.decode_wav(wav)
    duration = samples.size / rate
    weights = [max(speech_units(t, record.lang), 1) for t in texts]
    total = float(sum(weights))
    pauses = _pauses(samples, rate)
    bounds = [0.0]
    for weight in weights[:-1]:
        guess = bounds[-1] + weight / total * duration
        near = [p for p in pauses if abs(p - guess) <= _SNAP_SECONDS and p > bounds[-1]]
        bounds.append(min(near, key=lambda p: abs(p - guess)) if near else guess)
    bounds.append(duration)
    # A cue that ends mid-sentence drops its comma, as subtitles are written.
    return [Cue(round(offset + bounds[i], 3), round(offset + bounds[i + 1], 3),
                text.rstrip(ALL_PAUSE_MARKS + " ") or text)
            for i, text in enumerate(texts)]


def _subtitles(cues: Sequence[Cue]) -> tuple[str, str]:
    subs = pysubs2.SSAFile()
    for cue in cues:
        subs.append(pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000),
                                     text=cue.text))
    return subs.to_string("srt"), subs.to_string("vtt")


def assemble(records: Sequence[SegmentRecord], wavs: Sequence[bytes], *,
             audio_paths: Sequence[str], template_name: str, prices: Mapping[str, float],
             track_path: str | None = None, srt_path: str | None = None,
             vtt_path: str | None = None) -> Assembly:
    """Everything assembly writes; `records`, `wavs` and `audio_paths` are in segment order.
    The paths are where the caller stores each artifact (recorded in the script)."""
    if not (len(records) == len(wavs) == len(audio_paths)) or not records:
        raise ValueError("one record, one WAV and one path per segment are needed")
    basenames = [r.basename for r in records]
    if len(set(basenames)) != len(basenames):
        raise ValueError(f"segment basenames repeat: {basenames}")
    pieces, segments, cues = [], [], []
    offset = 0.0
    for record, wav, path in zip(records, wavs, audio_paths, strict=True):
        samples, rate = post.decode_wav(wav)
        if rate != post.SAMPLE_RATE:
            raise ValueError(f"segment {record.index} is {rate} Hz, not {post.SAMPLE_RATE}")
        duration = samples.size / rate
        pieces.append(samples)
        cues += subtitle_cues(record, wav, offset)
        segments.append(DubbingSegment(
            narration=record.narration, source_scene_ids=record.source_scene_ids,
            duration_seconds=round(duration, 3), audio_file_path=path,
            start_seconds=round(offset, 3), end_seconds=round(offset + duration, 3),
            original_narration=record.original_narration, fit=record.fit,
            loudness=record.loudness, engine=record.engine, voice=record.voice,
            fallback_reason=record.fallback_reason,
        ))
        offset += duration
    engines = sorted({r.engine for r in records})
    srt, vtt = _subtitles(cues)
    script = DubbingScript(
        dubbing_script=segments, total_duration=round(offset, 3), template_name=template_name,
        engine=", ".join(engines), engines=engines, sample_rate=post.SAMPLE_RATE,
        gap_seconds=0.0, narration_track_path=track_path, subtitles_srt_path=srt_path,
        subtitles_vtt_path=vtt_path, usage=usage_of(records, prices),
    )
    return Assembly(script=script, track_wav=post.encode_wav(np.concatenate(pieces)),
                    srt=srt, vtt=vtt)
