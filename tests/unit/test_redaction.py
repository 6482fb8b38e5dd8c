"""Masking secrets in text we did not write (exception messages, tracebacks)."""

from __future__ import annotations

import pytest

from vss.redaction import MASK, redact, redact_json


@pytest.mark.parametrize(("text", "secret"), [
    ("GET /v1beta/models/m:generateContent?key=AIza" + "a" * 35 + "&alt=sse", "AIza"),
    ("{'x-goog-api-key': 'plain-key'}", "plain-key"),
    ("X-Api-Key: vss_" + "k" * 43, "vss_k"),
    ("Authorization: Bearer ya29.token-value", "ya29"),
    ("https://storage/b/o?X-Goog-Signature=abcdef0123&X-Goog-Date=1", "abcdef0123"),
    ("the configured key is s3cr3t-value", "s3cr3t-value"),
])
def test_keys_are_masked_by_value_and_by_shape(text: str, secret: str):
    masked = redact(text, ["s3cr3t-value"])
    assert secret not in masked and MASK in masked


def test_ordinary_error_text_is_kept():
    text = "KeyError: 'scenes'; token budget of 24000 exceeded; missing key: chapters"
    assert redact(text, [None, ""]) == text


def test_every_string_of_a_json_value_is_masked():
    value = {"errors": [{"reason": "bad s3cr3t"}], "n": 3, "url": "?key=abc"}
    assert redact_json(value, ["s3cr3t"]) == {
        "errors": [{"reason": f"bad {MASK}"}], "n": 3, "url": f"?key={MASK}"}
