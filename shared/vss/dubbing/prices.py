"""What each voice costs. Which engines speak is `vss.ports.SpeechEngines`:

Cloud templates are spoken by Cloud Text-to-Speech when it is configured; otherwise, and for
offline templates, by the offline engines in order (Kokoro, then espeak-ng as the last
fallback). Whenever the engine that spoke is not the one the template names, the record says
why, as narration does for Gemini.
"""

from __future__ import annotations

from vss.dubbing.templates import VoiceRef


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
