"""The TTS worker's composition root: the segment handler with its speech engines."""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial

from vss.adapters.tts import audio_tools_from_settings, speech_engines_from_settings
from vss.bootstrap import cloud_ports
from vss.bootstrap.models import gemini_factory
from vss.config import Settings
from vss.deps import Deps
from vss.handler_config import SynthesisConfig
from vss.handlers import dubbing
from vss.ports import AudioTools, LlmFactory, Preloading, SpeechEngines

log = logging.getLogger(__name__)


def for_tts_worker(settings: Settings, base: Deps | None = None, *,
                   llm_for: LlmFactory | None = None, speech: SpeechEngines | None = None,
                   audio: AudioTools | None = None, preload: bool = False) -> Deps:
    """The segment handler with the speech engines and audio tools (from the settings unless
    given), and the model factory (the director and the rewrites of overlong segments).

    With `preload`, the offline engines load their models now: a worker that serves from
    several processes forked once it is built (the local stack's, one per request at once)
    then shares one loaded model rather than each loading its own on its first segment. A
    model that fails to load is a warning, not a worker that cannot start: the engine tries
    again on its first segment, and a segment it cannot speak falls back to the next."""
    speech = speech or speech_engines_from_settings(settings)
    if preload:
        for engine in speech.offline:
            if isinstance(engine, Preloading):
                try:
                    engine.preload()
                except Exception as exc:
                    log.warning("offline engine %s not preloaded: %s: %s", engine.name,
                                type(exc).__name__, exc)
    audio = audio or audio_tools_from_settings(settings)
    deps = base or cloud_ports(settings)
    return replace(deps, llm_for=llm_for or gemini_factory(settings),
                   segment_handler=partial(dubbing.synthesize, engines=speech, audio=audio,
                                           config=synthesis_config(settings)))


def synthesis_config(settings: Settings) -> SynthesisConfig:
    return SynthesisConfig(
        target_lufs=settings.dubbing_loudness_lufs,
        tolerance_lu=settings.dubbing_loudness_tolerance_lu,
        true_peak_dbtp=settings.dubbing_true_peak_dbtp,
        fit_tolerance=settings.dubbing_fit_tolerance, max_tempo=settings.dubbing_max_tempo,
        fit_attempts=settings.dubbing_fit_attempts,
    )
