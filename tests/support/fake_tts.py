"""A loopback fake of the Cloud Text-to-Speech REST API, for driving the real
`google-cloud-texttospeech` client (`transport="rest"`).

It answers `POST /v1/text:synthesize` (and `/v1beta1/...`) with speech-like LINEAR16 audio
(a RIFF WAV, as the real service sends) whose length follows the text, the language and
`speakingRate`, and records every request. Faults are scripted: a burst of statuses answered
to the next requests (429/500 → the client retries), a status answered to every request whose
text contains a marker (a permanent 400 for one segment), and a fixed latency.

    with FakeTts() as fake:
        fake.burst(429, 429, 500)
        engine = CloudTtsSpeechEngine.connect(fake.url)
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.loopback import LoopbackServer
from tests.support.speechlike import speech_like_wav
from vss.dubbing.templates import lang_of_language_code

_STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass(frozen=True)
class TtsCall:
    path: str
    body: dict[str, Any]
    status: int
    started: float = 0.0  # time.time() when the request arrived and when it was answered
    answered: float = 0.0

    @property
    def text(self) -> str:
        return str(self.body.get("input", {}).get("text", ""))

    @property
    def voice(self) -> dict[str, Any]:
        return dict(self.body.get("voice", {}))


class FakeTts(LoopbackServer):
    def __init__(self, *, latency_s: float = 0.0) -> None:
        self.latency_s = latency_s
        self.calls: list[TtsCall] = []
        self._burst: deque[int] = deque()
        self._refuse: dict[str, int] = {}
        self._lock = threading.Lock()
        super().__init__()

    def burst(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, one each, in order."""
        with self._lock:
            self._burst.extend(statuses)

    def refuse(self, marker: str, status: int = 400) -> None:
        """Answer `status` to every request whose text contains `marker`."""
        with self._lock:
            self._refuse[marker] = status

    def allow(self, marker: str) -> None:
        """Stop refusing texts that contain `marker`."""
        with self._lock:
            self._refuse.pop(marker, None)

    @property
    def succeeded(self) -> list[TtsCall]:
        return [c for c in self.calls if c.status == 200]

    def _speech(self, body: dict[str, Any]) -> bytes:
        """The JSON answer to a synthesis of `body`, made as the request arrives: the fake
        then only sends it once the latency has passed, so its own work does not land on the
        moment the worker takes the answer (the real service's is not on this machine).
        Nothing for an empty text, which `_answer` refuses."""
        text = str(body.get("input", {}).get("text", ""))
        if not text.strip():
            return b""
        config = body.get("audioConfig", {})
        rate = float(config.get("speakingRate") or 1.0)
        sample_rate = int(config.get("sampleRateHertz") or 24_000)
        lang = lang_of_language_code(body.get("voice", {}).get("languageCode")) or "en"
        wav = speech_like_wav(text, lang, rate=rate, sample_rate=sample_rate)
        return json.dumps({"audioContent": base64.b64encode(wav).decode()}).encode()

    def _answer(self, path: str, body: dict[str, Any], started: float
                ) -> tuple[int, dict[str, Any] | None]:
        """The status and error of a request once its latency has passed (None: the speech
        made as it arrived)."""
        text = str(body.get("input", {}).get("text", ""))
        with self._lock:
            status = self._burst.popleft() if self._burst else 200
            for marker, refused in self._refuse.items():
                if marker in text:
                    status = refused
            self.calls.append(TtsCall(path, body, status, started, time.time()))
        if not path.rstrip("/").endswith("text:synthesize"):
            return 404, _error(404, f"FakeTts: no route {path}")
        if status != 200:
            return status, _error(status, f"scripted {status}")
        if not text.strip():
            return 400, _error(400, "input.text is empty")
        return 200, None


    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                started = time.time()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                speech = fake._speech(body)
                if fake.latency_s:
                    time.sleep(max(0.0, started + fake.latency_s - time.time()))
                status, error = fake._answer(self.path.split("?", 1)[0], body, started)
                data = speech if error is None else json.dumps(error).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _error(status: int, message: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message,
                      "status": _STATUS_NAMES.get(status, "UNKNOWN")}}
