"""Masking secrets in text we did not write ourselves (exception messages, tracebacks) before it is
logged or recorded on a task, where the tenant can read it.

Two nets: the exact values we know (the Gemini key from the settings), and the shapes of keys
and credentials wherever they come from (Google API keys, our `vss_` edge keys, `key=`-style
parameters and headers, bearer tokens, URL signatures).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
_SHAPES = (
    re.compile(r"AIza[0-9A-Za-z_\-]{20,}"),  # Google API keys
    re.compile(r"vss_[A-Za-z0-9_\-]{20,}"),  # edge API keys (X-Api-Key values)
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=\-]+"),
)
_VALUE = r"([^\s&\"',;}]+)"
_NAMED = (
    # Names that only ever carry credentials: `name=value`, `name: value`, `"name": "value"`.
    re.compile(r"(?i)\b((?:x-)?(?:goog-)?api[_-]?key|access_token|password|secret"
               r"|x-goog-signature|authorization)(\"?'?\s*[=:]\s*\"?'?)" + _VALUE),
    # Query parameters that do in URLs (`?key=…`, `&token=…`).
    re.compile(r"(?i)([?&](?:key|token|sig|signature))(=)" + _VALUE),
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every known secret value and every key-shaped string replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    for shape in _SHAPES:
        text = shape.sub(MASK, text)
    for named in _NAMED:
        text = named.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text


def redact_json(value: Any, secrets: Iterable[str | None] = ()) -> Any:
    """`redact` applied to every string inside a JSON-like value (dicts, lists, scalars)."""
    known = list(secrets)
    if isinstance(value, str):
        return redact(value, known)
    if isinstance(value, dict):
        return {k: redact_json(v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(v, known) for v in value]
    return value
