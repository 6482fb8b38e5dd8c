"""A loopback fake of the Gemini REST API, for driving the real `google-genai` client.

It answers `POST .../models/{model}:generateContent`, `:batchEmbedContents` (every embedding
call in API-key mode, several texts in Vertex mode) and `:embedContent` (one text in Vertex
mode) under any prefix (`/v1beta/models/...` in API-key mode,
`/v1beta1/projects/{p}/locations/{l}/publishers/google/models/...` in Vertex mode) from a
queue of scripted replies, and records every request. An unscripted request gets a 500 naming
the problem, so a test that under-scripts fails loudly; embedding calls may instead be
answered by a function of their texts (`embed_with`), and generation calls by a function of
their prompt (`generate_with`), whenever no reply is queued.

    with FakeGemini() as fake:
        fake.reply_json({"items": []}, usage=(120, 30))
        writer = GeminiWriter(api_key="k", base_url=fake.url)
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.loopback import LoopbackServer

_CALL = re.compile(r"^/(?P<prefix>.*?)/?models/(?P<model>[^/:]+):"
                   r"(?P<rpc>generateContent|batchEmbedContents|embedContent)$")
EMBEDDING_RPCS = {"batchEmbedContents", "embedContent"}
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it was not JSON

    @property
    def model(self) -> str | None:
        match = _CALL.match(self.path.split("?", 1)[0])
        return match["model"] if match else None

    @property
    def rpc(self) -> str | None:
        """generateContent, batchEmbedContents or embedContent."""
        match = _CALL.match(self.path.split("?", 1)[0])
        return match["rpc"] if match else None

    @property
    def prompt(self) -> str:
        """The user text of a generateContent request."""
        body = self.body if isinstance(self.body, dict) else {}
        return "".join(part.get("text", "") for content in body.get("contents", [])
                       for part in content.get("parts", []))

    @property
    def texts(self) -> list[str]:
        """The texts of an embedding request, in order (one per request of a batch)."""
        body = self.body if isinstance(self.body, dict) else {}
        contents = [r.get("content", {}) for r in body.get("requests", [])] or \
            [body.get("content", {})]
        return ["".join(part.get("text", "") for part in content.get("parts", []))
                for content in contents if content]


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    delay_s: float = 0.0


class FakeGemini(LoopbackServer):
    """A threaded HTTP server on 127.0.0.1 with a FIFO of scripted replies."""

    def __init__(self, model_version: str = "gemini-2.5-flash-fake") -> None:
        self.model_version = model_version
        self.requests: list[RecordedRequest] = []
        self._replies: deque[_Reply] = deque()
        self._lock = threading.Lock()
        self._embed: Callable[[str], list[float]] | None = None
        self._generate: Callable[[str], Any] | None = None
        self._count_tokens = True
        super().__init__()

    # -- scripting ---------------------------------------------------------------------------

    def reply_json(
        self,
        obj: Any,
        *,
        usage: tuple[int, int] = (10, 5),
        thoughts: int | None = None,
        finish_reason: str = "STOP",
    ) -> None:
        """A candidate whose text is `obj` serialised as JSON (what structured output returns)."""
        self.reply_text(
            json.dumps(obj, ensure_ascii=False),
            usage=usage,
            thoughts=thoughts,
            finish_reason=finish_reason,
        )

    def reply_text(
        self,
        text: str,
        *,
        usage: tuple[int, int] = (10, 5),
        thoughts: int | None = None,
        finish_reason: str = "STOP",
    ) -> None:
        """A candidate with raw `text`, e.g. malformed JSON."""
        prompt, output = usage
        meta: dict[str, int] = {
            "promptTokenCount": prompt,
            "candidatesTokenCount": output,
            "totalTokenCount": prompt + output + (thoughts or 0),
        }
        if thoughts is not None:
            meta["thoughtsTokenCount"] = thoughts
        self.reply_body(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": text}]},
                        "finishReason": finish_reason,
                        "index": 0,
                    }
                ],
                "usageMetadata": meta,
                "modelVersion": self.model_version,
            }
        )

    def reply_embeddings(self, vectors: list[list[float]], *,
                         prompt_tokens: int | None = None) -> None:
        """A batchEmbedContents answer: one embedding per vector, with `usageMetadata` when
        `prompt_tokens` is given."""
        body: dict[str, Any] = {"embeddings": [{"values": v} for v in vectors]}
        if prompt_tokens is not None:
            body["usageMetadata"] = {"promptTokenCount": prompt_tokens,
                                     "totalTokenCount": prompt_tokens}
        self.reply_body(body)

    def embed_with(self, embed: Callable[[str], list[float]] | None, *,
                   count_tokens: bool = True) -> None:
        """Answer embedding calls with `embed(text)` for each text whenever no reply is
        queued; `count_tokens`: report a token per character in `usageMetadata` (else no
        count, as the Gemini API may answer)."""
        with self._lock:
            self._embed = embed
            self._count_tokens = count_tokens

    def generate_with(self, answer: Callable[[str], Any] | None) -> None:
        """Answer generateContent calls with `answer(prompt)` as JSON whenever no reply is
        queued (for calls whose count or order depends on the code under test)."""
        with self._lock:
            self._generate = answer

    def reply_blocked(self, reason: str = "SAFETY", *, usage: tuple[int, int] = (10, 0)) -> None:
        """No candidates: the prompt itself was blocked."""
        self.reply_body(
            {
                "promptFeedback": {"blockReason": reason},
                "usageMetadata": {"promptTokenCount": usage[0], "totalTokenCount": usage[0]},
                "modelVersion": self.model_version,
            }
        )

    def reply_body(self, body: Any, status: int = 200, *, delay_s: float = 0.0) -> None:
        """Any JSON body, verbatim, optionally after `delay_s` (to provoke client timeouts)."""
        self._push(_Reply(status, json.dumps(body).encode(), delay_s))

    def reply_raw(self, status: int, body: bytes) -> None:
        """Bytes verbatim, e.g. an HTML page from a proxy."""
        self._push(_Reply(status, body))

    def reply_status(self, status: int, message: str = "scripted error") -> None:
        """Google's error envelope, e.g. 429 RESOURCE_EXHAUSTED."""
        self.reply_body(
            {
                "error": {
                    "code": status,
                    "message": message,
                    "status": _STATUS_NAMES.get(status, "UNKNOWN"),
                }
            },
            status,
        )

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._replies)

    def _push(self, reply: _Reply) -> None:
        with self._lock:
            self._replies.append(reply)

    def _next(self, request: RecordedRequest) -> _Reply:
        with self._lock:
            self.requests.append(request)
            if request.method != "POST" or request.model is None:
                msg = f"FakeGemini: unexpected {request.method} {request.path}"
                return _Reply(
                    404,
                    json.dumps(
                        {"error": {"code": 404, "message": msg, "status": "NOT_FOUND"}}
                    ).encode(),
                )
            if not self._replies and self._embed is not None and \
                    request.rpc in EMBEDDING_RPCS:
                return self._embedded(request, self._embed)
            if not self._replies and self._generate is not None and \
                    request.rpc == "generateContent":
                return self._generated(request, self._generate)
            if not self._replies:
                msg = f"FakeGemini: no scripted reply left for request #{len(self.requests)}"
                return _Reply(
                    500,
                    json.dumps(
                        {"error": {"code": 500, "message": msg, "status": "INTERNAL"}}
                    ).encode(),
                )
            return self._replies.popleft()

    def _embedded(self, request: RecordedRequest, embed: Callable[[str], list[float]]
                  ) -> _Reply:
        texts = request.texts
        embeddings = [{"values": embed(text)} for text in texts]
        body: dict[str, Any] = {"embeddings": embeddings}
        if request.rpc == "embedContent":  # Vertex AI, one text
            body = {"embedding": embeddings[0]}
        if self._count_tokens:
            tokens = sum(len(text) for text in texts)
            body["usageMetadata"] = {"promptTokenCount": tokens, "totalTokenCount": tokens}
        return _Reply(200, json.dumps(body).encode())

    def _generated(self, request: RecordedRequest, answer: Callable[[str], Any]) -> _Reply:
        text = json.dumps(answer(request.prompt), ensure_ascii=False)
        body = {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                                "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 10,
                                  "totalTokenCount": 110},
                "modelVersion": self.model_version}
        return _Reply(200, json.dumps(body).encode())

    # -- serving --------------------------------------------------------------------------


    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw
                request = RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                reply = fake._next(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out
                    self.close_connection = True

            do_POST = do_GET = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
