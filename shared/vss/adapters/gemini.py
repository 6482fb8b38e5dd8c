"""Narration with Gemini through `google-genai`, in API-key or Vertex AI mode.

`GeminiWriter` implements the `StructuredLlm` port. The client's own retries (`HttpRetryOptions`:
408/429/5xx, timeouts and connection errors) run first; what is left is mapped to the error tree
(`vss.adapters._genai`), and a blocked prompt or candidate is an `LlmError` too:

    429 after retries                        RateLimited
    5xx, timeouts, connection errors         RetryableError
    other 4xx, blocked prompt or candidate   LlmError (3002, permanent)

Schemas must be concrete pydantic models: in API-key mode the client refuses `dict`-typed fields
(`additionalProperties`), which surfaces here as `LlmError`. Text that is not valid JSON for the
schema does not raise: `parsed` is None and `text` is kept for a repair attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.genai import types

from vss.adapters._genai import Scrubber, connect, translated
from vss.domain.usage import Usage
from vss.errors import LlmError
from vss.ports import LlmResult, M

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

__all__ = ["GeminiWriter"]

# Finish reasons that mean the answer was withheld rather than cut short.
_REFUSED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}


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
        self._scrub = Scrubber(api_key)  # so no message of ours can echo the key
        self._client = connect(
            api_key=api_key, vertex_project=vertex_project, vertex_location=vertex_location,
            base_url=base_url, attempts=attempts, timeout_s=timeout_s,
            initial_delay_s=initial_delay_s, max_delay_s=max_delay_s, credentials=credentials,
        )

    def generate(self, *, system: str, prompt: str, schema: type[M],
                 temperature: float | None = None) -> LlmResult[M]:
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=schema,
            temperature=self._temperature if temperature is None else temperature,
        )
        with translated(self.model, self._scrub):
            response = self._client.models.generate_content(
                model=self.model, contents=prompt, config=config
            )
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


def _enum_name(value: object) -> str:
    return str(getattr(value, "value", value))
