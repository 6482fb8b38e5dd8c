"""Google Cloud Text-to-Speech behind the SpeechEngine port (`google-cloud-texttospeech`).

One client serves every voice family: Chirp 3 HD and WaveNet voices by name, Gemini-TTS by
`model_name` plus a speaker and a style prompt, and instant custom voices by their cloning key.
Audio is asked for as LINEAR16 at 48 kHz, the pipeline's format. 429 and 5xx are retried here
with backoff, a bounded number of times; what still fails is `RateLimited`/`RetryableError`
(the segment is retried by the fan-out), and a refused request is a permanent `TtsError`.
"""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Callable
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import texttospeech

from vss.domain.audio import wav_facts
from vss.errors import RateLimited, RetryableError, TtsError
from vss.ports import SpeechAudio, SpeechRequest

SAMPLE_RATE = 48_000
_RETRYABLE = (gexc.TooManyRequests, gexc.ResourceExhausted, gexc.InternalServerError,
              gexc.ServiceUnavailable, gexc.BadGateway, gexc.GatewayTimeout,
              gexc.DeadlineExceeded)


class CloudTtsSpeechEngine:
    name = "google-tts"

    def __init__(self, client: Any, *, attempts: int = 4, backoff_seconds: float = 0.5,
                 timeout_seconds: float = 60.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds
        self._sleep = sleep

    @classmethod
    def connect(cls, endpoint: str | None = None, **kwargs: Any) -> CloudTtsSpeechEngine:
        """The production client (Application Default Credentials), or with `endpoint` a
        client of that endpoint over REST with anonymous credentials (a local fake)."""
        if endpoint:
            client = texttospeech.TextToSpeechClient(
                client_options=ClientOptions(api_endpoint=endpoint),
                credentials=AnonymousCredentials(), transport="rest")
        else:
            client = texttospeech.TextToSpeechClient()
        return cls(client, **kwargs)

    def _request(self, request: SpeechRequest) -> dict[str, Any]:
        synthesis = texttospeech.SynthesisInput(text=request.text)
        if request.model and request.prompt:
            synthesis.prompt = request.prompt  # Gemini-TTS style instructions, not spoken
        if request.cloning_key:
            voice = texttospeech.VoiceSelectionParams(
                language_code=request.language_code or "",
                voice_clone=texttospeech.VoiceCloneParams(
                    voice_cloning_key=request.cloning_key))
        else:
            voice = texttospeech.VoiceSelectionParams(
                language_code=request.language_code or "", name=request.voice or "",
                model_name=request.model or "")
        audio = texttospeech.AudioConfig(
            audio_encoding=texttospeech.AudioEncoding.LINEAR16,
            sample_rate_hertz=SAMPLE_RATE, speaking_rate=min(max(request.rate, 0.25), 2.0))
        return {"input": synthesis, "voice": voice, "audio_config": audio}

    def speak(self, request: SpeechRequest) -> SpeechAudio:
        kwargs = self._request(request)
        for attempt in range(1, self._attempts + 1):
            try:
                response = self._client.synthesize_speech(**kwargs, timeout=self._timeout)
                break
            except _RETRYABLE as exc:
                if attempt == self._attempts:
                    raise _retryable(exc) from None
                self._sleep(self._backoff * 2 ** (attempt - 1))
            except gexc.GoogleAPICallError as exc:
                raise TtsError(f"Cloud Text-to-Speech refused the request ({exc.code}).",
                               details={"status": getattr(exc, "code", None),
                                        "reason": str(exc.message)[:300],
                                        "voice": request.voice, "model": request.model}
                               ) from None
        wav = _as_wav(bytes(response.audio_content))
        facts = wav_facts(wav)
        voice = "instant-custom-voice" if request.cloning_key else (request.voice or "")
        return SpeechAudio(wav=wav, sample_rate=facts.sample_rate, channels=facts.channels,
                           duration_seconds=facts.duration_seconds, engine=self.name,
                           voice=voice)


def _retryable(exc: gexc.GoogleAPICallError) -> RetryableError:
    details = {"status": getattr(exc, "code", None), "reason": str(exc.message)[:300]}
    if isinstance(exc, gexc.TooManyRequests | gexc.ResourceExhausted):
        return RateLimited("Cloud Text-to-Speech is rate limiting.", details=details)
    return RetryableError("Cloud Text-to-Speech is unavailable.", details=details)


def _as_wav(data: bytes) -> bytes:
    """LINEAR16 comes with a RIFF header; bare PCM gets one (48 kHz mono 16-bit, as asked)."""
    if not data:
        raise TtsError("Cloud Text-to-Speech returned no audio.")
    if data[:4] == b"RIFF":
        return data
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(data[: len(data) - len(data) % 2])
    return buffer.getvalue()
