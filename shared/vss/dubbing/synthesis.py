"""Synthesising one segment: speak, post-process, fit its slot; the unit a TTS worker runs.

Fitting (DESIGN.md §8) never makes chipmunks: speech that overruns its slot by more than the
tolerance is first sped up a little, pitch kept (at most `max_tempo`); past that the text is
shortened (the narration writer's rewrite when given, else a cut at a sentence boundary) and
synthesised again, a bounded number of times. What was done is recorded on the segment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from vss.domain.artifacts import SegmentFit, SegmentLoudness
from vss.domain.language import SpeechRate, language_profile, speech_units, split_sentences
from vss.domain.segments import SegmentRecord
from vss.dubbing import audio as post
from vss.dubbing.plan import SegmentRequest, SpeechPart
from vss.dubbing.prices import price_family
from vss.dubbing.speakers import split_speakers
from vss.dubbing.templates import VoiceRef, load_templates
from vss.errors import TtsError
from vss.handler_config import SynthesisConfig
from vss.narration.pacing import cut_to_budget
from vss.ports import AudioTools, SpeechEngine, SpeechEngines, SpeechRequest

# (text, seconds it must fit, lang) -> a shorter text saying the same.
Rewrite = Callable[[str, float, str], str]
# (request, parts) -> a delivery note per part (None: none), for promptable voices.
Director = Callable[[SegmentRequest, Sequence[SpeechPart]], list[str | None]]

_PART_GAP_SECONDS = 0.18  # between a narrator's words and a quoted line
# Cloud TTS takes at most 5000 bytes of text per request (prompt included): longer parts are
# spoken a few sentences at a time.
MAX_PART_BYTES = 3500


@dataclass(frozen=True)
class SynthesizedSegment:
    wav: bytes = field(repr=False)  # 48 kHz mono PCM16
    record: SegmentRecord


@dataclass
class _Take:
    """One synthesis of the whole segment."""

    samples: np.ndarray
    engine: str = ""
    voice: str = ""
    speakers: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    characters: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _offline_voice(request: SegmentRequest, speaker: str) -> str | None:
    """A cloud template's voice on the offline engines: the narrator of the language's
    offline template for the narrator; for a character, the offline cast voice of the same
    gender in the same position as the character's cloud voice in its template's cast, so a
    character keeps one voice across segments."""
    if request.engine == "offline":
        return request.voice_of(speaker).voice
    local = load_templates().get("default", request.lang)
    if speaker == request.speaker or speaker not in request.voices:
        return local.narrator.voice
    voice = request.voices[speaker]
    cloud_cast = [v.voice for v in load_templates().get(request.template).cast]
    position = cloud_cast.index(voice.voice) if voice.voice in cloud_cast else 0
    alike = [v for v in local.cast if voice.gender and v.gender == voice.gender]
    cast = alike or list(local.cast) or [local.narrator]
    return cast[position % len(cast)].voice


def _attempts(request: SegmentRequest, voice: VoiceRef, speaker: str, text: str,
              engines: SpeechEngines, prompt: str | None
              ) -> list[tuple[SpeechEngine, SpeechRequest, str, str | None]]:
    """(engine, request, price family, why not the template's engine) in the order to try."""
    if request.engine == "google" and engines.cloud is not None:
        key = engines.cloning_keys.get(request.template) if voice.clone else None
        why = (f"no instant custom voice key is configured for {request.template}; "
               f"{voice.voice} spoke" if voice.clone and not key else None)
        speech = SpeechRequest(text=text, lang=request.lang, voice=voice.voice,
                               rate=request.tempo, language_code=voice.language_code,
                               model=voice.model, prompt=prompt, cloning_key=key)
        return [(engines.cloud, speech, price_family("google", voice, cloned=bool(key)),
                 why)]
    why = None if request.engine == "offline" else \
        f"{engines.cloud_missing}: {request.template} was spoken offline"
    offline_voice = _offline_voice(request, speaker)
    return [(engine, SpeechRequest(text=text, lang=request.lang, voice=offline_voice,
                                   rate=request.tempo), engine.name, why)
            for engine in engines.offline]


def _speak(request: SegmentRequest, part: SpeechPart, engines: SpeechEngines,
           note: str | None, take: _Take) -> np.ndarray:
    voice = request.voice_of(part.speaker)
    prompt = voice.prompt
    if note:
        prompt = f"{prompt}\n{note}" if prompt else note
    failures: list[str] = []
    for engine, speech, family, why in _attempts(request, voice, part.speaker, part.text,
                                                 engines, prompt):
        try:
            audio = engine.speak(speech)
        except TtsError as exc:
            if engine is engines.cloud:  # a refusal: the task fails naming the segment
                raise TtsError(f"Segment {request.index} ({request.basename}): {exc.message}",
                               details={**_as_dict(exc.details), "segment": request.index,
                                        "basename": request.basename}) from exc
            failures.append(f"{engine.name} failed ({exc.message})")
            continue
        reasons = [r for r in (why, *failures) if r]
        if engine is not engines.cloud:  # a preferred offline engine is not installed
            reasons.extend(engines.offline_missing.values())
        take.reasons.extend(r for r in reasons if r not in take.reasons)
        take.engine, take.voice = audio.engine, audio.voice
        take.speakers[part.speaker] = audio.voice
        take.characters[family] = take.characters.get(family, 0) + len(part.text)
        samples, rate = post.decode_wav(audio.wav)
        return post.trim_silence(post.resample(samples, rate), post.SAMPLE_RATE)
    raise TtsError(f"No engine could speak segment {request.index}.",
                   details={"segment": request.index, "failures": failures})


def _bounded(parts: Sequence[SpeechPart], lang: str) -> list[SpeechPart]:
    """Parts no longer than MAX_PART_BYTES, split between sentences."""
    out: list[SpeechPart] = []
    for part in parts:
        chunk = ""
        for sentence in split_sentences(part.text, lang):
            joined = f"{chunk}{language_profile(lang).joiner if chunk else ''}{sentence}"
            if chunk and len(joined.encode()) > MAX_PART_BYTES:
                out.append(SpeechPart(speaker=part.speaker, text=chunk))
                joined = sentence
            chunk = joined
        out.append(SpeechPart(speaker=part.speaker, text=chunk or part.text))
    return out


def _synthesise(request: SegmentRequest, text: str, engines: SpeechEngines,
                director: Director | None, previous: _Take | None) -> _Take:
    parts = _bounded(request.parts if text == request.text else [
        SpeechPart(speaker=p.speaker, text=p.text)
        for p in split_speakers(text, request.lang, request.characters, request.speaker)],
        request.lang)
    notes: list[str | None] = [None] * len(parts)
    if director is not None and request.director and engines.cloud is not None:
        notes = (director(request, parts) + notes)[: len(parts)]
    take = _Take(np.zeros(0), characters=dict(previous.characters) if previous else {})
    gap = np.zeros(int(_PART_GAP_SECONDS * post.SAMPLE_RATE))
    pieces: list[np.ndarray] = []
    for part, note in zip(parts, notes, strict=True):
        if pieces:
            pieces.append(gap)
        pieces.append(_speak(request, part, engines, note, take))
        if note:
            take.notes.append(note)
    take.samples = np.concatenate(pieces) if pieces else np.zeros(0)
    if take.samples.size == 0:
        raise TtsError(f"Segment {request.index} was synthesised as silence.",
                       details={"segment": request.index})
    return take


def _shorten(text: str, lang: str, slot: float, spoken_seconds: float, config: SynthesisConfig,
             rewrite: Rewrite | None) -> tuple[str, str]:
    """(shorter text, "rewrite" | "cut"), sized at the speech rate this voice was just
    measured at. A rewrite aims at the slot itself (fluent text that needs no speed-up); a
    cut keeps whole sentences up to what the largest tempo change can still fit."""
    units = speech_units(text, lang)
    measured = units / spoken_seconds if spoken_seconds > 0 else 0.0
    profile_rate = language_profile(lang).units_per_second
    # Seconds at the language's standard rate that hold as many units as this voice says in
    # the target time: what the rewrite prompt and the cut count in.
    scale = measured / profile_rate if measured else 1.0
    if rewrite is not None:
        candidate = rewrite(text, slot * scale, lang).strip()
        if candidate and speech_units(candidate, lang) < units:
            return candidate, "rewrite"
    return cut_to_budget(text, slot * config.max_tempo * 0.97 * scale, lang, SpeechRate()), \
        "cut"


def synthesize_segment(request: SegmentRequest, engines: SpeechEngines, audio: AudioTools,
                   rewrite: Rewrite | None = None, config: SynthesisConfig | None = None, *,
                   director: Director | None = None) -> SynthesizedSegment:
    """The segment's final WAV (48 kHz mono PCM16, trimmed, loudness-normalised, fitted) and
    its record. Raises `TtsError` (permanent) or `RetryableError` from the engines."""
    config = config or SynthesisConfig()
    slot = request.slot_seconds
    # Without footage there is nothing to fit: an estimate is no reason to cut a line.
    constrained = request.slot_source != "estimate"
    allowed = slot * (1 + config.fit_tolerance) if constrained else math.inf
    text, shortened_by = request.text, None
    take: _Take | None = None
    tempo, attempts = 1.0, 0
    for attempts in range(1, config.fit_attempts + 1):
        take = _synthesise(request, text, engines, director, take)
        raw = take.samples.size / post.SAMPLE_RATE
        if raw <= allowed:
            break
        if raw <= slot * config.max_tempo or attempts == config.fit_attempts:
            tempo = min(raw / slot, config.max_tempo)
            break
        shorter, how = _shorten(text, request.lang, slot, raw, config, rewrite)
        if not shorter or shorter == text:
            tempo = config.max_tempo
            break
        text, shortened_by = shorter, how
    assert take is not None
    raw = take.samples.size / post.SAMPLE_RATE
    samples = take.samples
    if tempo > 1.0:
        sped, _ = post.decode_wav(audio.change_tempo(post.encode_wav(samples), tempo))
        samples = post.trim_silence(sped, post.SAMPLE_RATE)
    samples = post.normalize(samples, post.SAMPLE_RATE, target_lufs=config.target_lufs,
                             tolerance_lu=config.tolerance_lu,
                             ceiling_dbtp=config.true_peak_dbtp)
    wav = post.encode_wav(samples)
    final, _ = post.decode_wav(wav)  # measured as delivered, after 16-bit rounding
    loudness = post.measure(final)
    duration = final.size / post.SAMPLE_RATE
    overrun = max(0.0, duration - allowed)
    action = ("unconstrained" if not constrained else "overrun" if overrun > 0
              else "shortened" if shortened_by else "tempo" if tempo > 1.0 else "fits")
    record = SegmentRecord(
        index=request.index, basename=request.basename, narration=text,
        original_narration=request.text if text != request.text else None,
        source_scene_ids=request.source_scene_ids, lang=request.lang,
        duration_seconds=round(duration, 3),
        fit=SegmentFit(slot_seconds=round(slot, 3), slot_source=request.slot_source,
                       raw_duration_seconds=round(raw, 3), tempo=round(tempo, 4),
                       action=action, shortened_by=shortened_by,
                       overrun_seconds=round(overrun, 3), attempts=attempts),
        loudness=SegmentLoudness(lufs=round(_finite(loudness.lufs), 2),
                                 true_peak_dbtp=round(_finite(loudness.true_peak_dbtp), 2)),
        engine=take.engine, voice=take.speakers.get(request.speaker, take.voice),
        speakers=take.speakers,
        fallback_reason="; ".join(take.reasons) or None, tts_characters=take.characters,
        delivery_notes=take.notes,
    )
    return SynthesizedSegment(wav=wav, record=record)


def _as_dict(details: object) -> dict[str, object]:
    return dict(details) if isinstance(details, dict) else {"details": details}


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -99.0
