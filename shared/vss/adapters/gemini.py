"""Narration with Gemini through `google-genai`, in API-key or Vertex AI mode.

`GeminiWriter` implements the `StructuredLlm` port. The client's own retries (`HttpRetryOptions`:
408/429/5xx, timeouts and connection errors) run first; what is left is mapped to the error tree:

    429 after retries                        RateLimited
    5xx, timeouts, connection errors         RetryableError
    other 4xx, blocked prompt or candidate   LlmError (3002, permanent)

Schemas must be concrete pydantic models: in API-key mode the client refuses `dict`-typed fields
(`additionalProperties`), which surfaces here as `LlmError`. Text that is not valid JSON for the
schema does not raise: `parsed` is None and `text` is kept for a repair attempt.
"""

from __future__ import annotations

import importlib
import json
import os
from typing import TYPE_CHECKING, Any

from google import genai
from google.auth import exceptions as auth_exceptions
from google.genai import errors, types

from vss.domain.usage import Usage
from vss.errors import LlmError, RateLimited, RetryableError
from vss.ports import LlmResult, M

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

__all__ = ["GeminiWriter"]

RETRY_STATUS_CODES = [408, 429, 500, 502, 503, 504]
# Finish reasons that mean the answer was withheld rather than cut short.
_REFUSED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Network-level failures of whichever httpx flavour the client uses, plus google-auth's."""
    found: list[type[BaseException]] = [auth_exceptions.TransportError, TimeoutError]
    for name in ("httpx", "httpx2"):
        try:
            found.append(importlib.import_module(name).TransportError)
        except (ImportError, AttributeError):
            continue
    return tuple(found)


_TRANSPORT_ERRORS = _transport_errors()


class GeminiWriter:
    """Structured JSON output from a Gemini model; one `genai.Client` per instance."""

    name = "gemini"

    def __init__(
        self,
        *,
        model: str = "gemini-2.5-flash",
        api_key: str | None = None,
        vertex_project: str | None = None,
        vertex_location: str = "us-central1",
        base_url: str | None = None,
        price_per_million: tuple[float, float] = (0.30, 2.50),
        attempts: int = 4,
        timeout_s: float = 120,
        initial_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        temperature: float = 0.7,
        credentials: Credentials | None = None,
    ) -> None:
        """`api_key` selects the Gemini API (falling back to GOOGLE_API_KEY/GEMINI_API_KEY);
        `vertex_project` selects Vertex AI with application default credentials, or
        `credentials` when given. `price_per_million` is USD per 1M (input, output) tokens;
        thinking tokens are billed as output. Retry jitter is `initial_delay_s`."""
        self.model = model
        self.price_per_million = price_per_million
        self._temperature = temperature
        # Whatever key the client may use, so no message of ours can echo it.
        self._secret = (
            api_key or os.environ.get("GOOGLE_API_KEY") or os.environ.get("GEMINI_API_KEY") or ""
        )
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
            self._client = genai.Client(
                vertexai=True,
                project=vertex_project,
                location=vertex_location,
                credentials=credentials,
                http_options=http_options,
            )
        else:
            self._client = genai.Client(vertexai=False, api_key=api_key, http_options=http_options)

    def generate(self, *, system: str, prompt: str, schema: type[M]) -> LlmResult[M]:
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=schema,
            temperature=self._temperature,
        )
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=prompt, config=config
            )
        except errors.APIError as exc:
            raise self._api_error(exc) from exc
        except _TRANSPORT_ERRORS as exc:
            raise RetryableError(
                f"Gemini unreachable: {type(exc).__name__}", details={"model": self.model}
            ) from exc
        except (json.JSONDecodeError, errors.UnknownApiResponseError) as exc:  # e.g. a proxy page
            raise RetryableError(
                "Gemini sent an unreadable answer.", details={"model": self.model}
            ) from exc
        except ValueError as exc:  # the client refused the request, e.g. a dict-typed schema
            raise LlmError(
                f"Gemini request refused by the client: {self._scrub(str(exc))}",
                details={"model": self.model},
            ) from exc
        self._check_not_blocked(response)
        parsed = response.parsed if isinstance(response.parsed, schema) else None
        return LlmResult(parsed=parsed, text=response.text or "", usage=self._usage(response))

    def _usage(self, response: types.GenerateContentResponse) -> Usage:
        meta = response.usage_metadata
        if meta is None:
            return Usage(llm_calls=1)
        tokens_in = meta.prompt_token_count or 0
        tokens_out = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
        price_in, price_out = self.price_per_million
        cost = (tokens_in * price_in + tokens_out * price_out) / 1_000_000
        return Usage(llm_input_tokens=tokens_in, llm_output_tokens=tokens_out,
                     cost_usd=round(cost, 6), llm_calls=1)

    def _check_not_blocked(self, response: types.GenerateContentResponse) -> None:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason is not None:
            reason = _enum_name(feedback.block_reason)
            raise LlmError(
                f"Gemini blocked the prompt: {reason}",
                details={"model": self.model, "block_reason": reason},
            )
        if not response.candidates:
            raise LlmError("Gemini returned no candidates.", details={"model": self.model})
        finish = response.candidates[0].finish_reason
        if finish is not None and _enum_name(finish) in _REFUSED:
            reason = _enum_name(finish)
            raise LlmError(
                f"Gemini withheld the answer: {reason}",
                details={"model": self.model, "finish_reason": reason},
            )

    def _api_error(self, exc: errors.APIError) -> LlmError | RetryableError:
        status = exc.code
        message = self._scrub(str(exc.message or exc.status or "no message"))[:500]
        details: dict[str, Any] = {"status": status, "model": self.model}
        if exc.status:
            details["reason"] = exc.status
        text = f"Gemini answered {status}: {message}"
        if status == 429:
            return RateLimited(text, details=details)
        if status in RETRY_STATUS_CODES or status >= 500:
            return RetryableError(text, details=details)
        return LlmError(text, details=details)

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _enum_name(value: object) -> str:
    return str(getattr(value, "value", value))
