"""What the Gemini adapters share: one way to build a `google-genai` client (API key or Vertex
AI, with the client's own retries) and one mapping of what a call can raise to the error tree.

    429 after retries                        RateLimited
    408, 5xx, timeouts, connection errors    RetryableError
    an unreadable answer (a proxy's page)    RetryableError
    other 4xx, a request the client refuses  LlmError (3002, permanent)
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from google import genai
from google.auth import exceptions as auth_exceptions
from google.genai import errors, types

from vss.errors import LlmError, RateLimited, RetryableError

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504]


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Network-level failures of whichever httpx flavour the client uses, plus google-auth's."""
    found: list[type[BaseException]] = [auth_exceptions.TransportError, TimeoutError]
    for name in ("httpx", "httpx2"):
        try:
            found.append(importlib.import_module(name).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


TRANSPORT_ERRORS = _transport_errors()


def connect(
    *,
    api_key: str | None,
    vertex_project: str | None,
    vertex_location: str,
    base_url: str | None,
    attempts: int,
    timeout_s: float,
    initial_delay_s: float,
    max_delay_s: float,
    credentials: Credentials | None = None,
) -> genai.Client:
    """A client of the Gemini API (`api_key`, falling back to GOOGLE_API_KEY/GEMINI_API_KEY),
    or of Vertex AI in `vertex_project` (application default credentials, or `credentials`).
    It retries 408/429/5xx itself, `attempts` times in all; retry jitter is `initial_delay_s`."""
    http_options = types.HttpOptions(
        base_url=base_url,
        timeout=int(timeout_s * 1000),
        retry_options=types.HttpRetryOptions(
            attempts=attempts,
            initial_delay=initial_delay_s,
            max_delay=max_delay_s,
            jitter=initial_delay_s,
            http_status_codes=RETRY_STATUS_CODES,
        ),
    )
    if vertex_project:
        return genai.Client(vertexai=True, project=vertex_project, location=vertex_location,
                            credentials=credentials, http_options=http_options)
    return genai.Client(vertexai=False, api_key=api_key, http_options=http_options)


class Scrubber:
    """Removes the API key a client may use from any text of ours that could echo it."""

    def __init__(self, api_key: str | None) -> None:
        self._secret = (
            api_key or os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY") or ""
        )

    def __call__(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


@contextmanager
def translated(model: str, scrub: Scrubber) -> Iterator[None]:
    """Run a client call, raising what it raises as the error tree's classes."""
    try:
        yield
    except errors.APIError as exc:
        raise api_error(exc, model, scrub) from exc
    except TRANSPORT_ERRORS as exc:
        raise RetryableError(
            f"Gemini unreachable: {type(exc).__name__}", details={"model": model}
        ) from exc
    except (json.JSONDecodeError, errors.UnknownApiResponseError) as exc:  # e.g. a proxy page
        raise RetryableError(
            "Gemini sent an unreadable answer.", details={"model": model}
        ) from exc
    except ValueError as exc:  # the client refused the request, e.g. a dict-typed schema
        raise LlmError(
            f"Gemini request refused by the client: {scrub(str(exc))}",
            details={"model": model},
        ) from exc


def api_error(exc: errors.APIError, model: str, scrub: Scrubber) -> LlmError | RetryableError:
    status = exc.code
    message = scrub(str(exc.message or exc.status or "no message"))[:500]
    details: dict[str, Any] = {"status": status, "model": model}
    if exc.status:
        details["reason"] = exc.status
    text = f"Gemini answered {status}: {message}"
    if status == 429:
        return RateLimited(text, details=details)
    if status in RETRY_STATUS_CODES or status >= 500:
        return RetryableError(text, details=details)
    return LlmError(text, details=details)
