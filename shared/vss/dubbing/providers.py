"""Which engine speaks a segment, and what that costs.

Cloud templates are spoken by Cloud Text-to-Speech when it is configured; otherwise, and for
offline templates, by the offline engines in order (Kokoro, then espeak-ng as the last
fallback). Whenever the engine that spoke is not the one the template names, the record says
why, as narration does for Gemini.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vss.dubbing.templates import VoiceRef
from vss.ports import SpeechEngine

__all__ = ["TtsProviders", "price_family"]


@dataclass(frozen=True)
class TtsProviders:
    """The engines of this process. `cloud` None: why in `cloud_missing`."""

    offline: Sequence[SpeechEngine]
    cloud: SpeechEngine | None = None
    cloud_missing: str = "no Google credentials are configured"
    # Instant custom voice keys by template name (Settings.tts_voice_cloning_keys).
    cloning_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    # Why an offline engine is missing from `offline` (e.g. Kokoro not installed).
    offline_missing: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.offline:
            raise ValueError("at least one offline engine is needed (espeak-ng)")


def price_family(engine: str, voice: VoiceRef | None, *, cloned: bool = False) -> str:
    """The key of Settings.tts_prices a request is billed under; offline engines are billed
    under their own name (free)."""
    if engine != "google" or voice is None:
        return engine
    if cloned:
        return "instant-custom-voice"
    if voice.model:
        return voice.model
    name = (voice.voice or "").lower()
    for family in ("chirp3-hd", "wavenet", "neural2", "studio", "standard"):
        if family in name:
            return family
    return "standard"
