"""The `Idempotency-Key` itself: which keys are well formed (a malformed one is a 400 pointing
at the header), how a tenant's key names its record, and how bodies are compared."""

from __future__ import annotations

import pytest

from vss.domain import idempotency as keys
from vss.errors import BadRequest

KEY = "3f1c-retry-me"


@pytest.mark.parametrize("raw", ["a", "x" * 255, "3f1c9a1e-0b7e-4c1d-9a55-6f2b1c0d9e8f",
                                 "order 42/retry #1", "~!@{}"])
def test_a_well_formed_key_is_taken_as_sent(raw: str):
    assert keys.parse_key(raw) == raw


def test_no_header_means_no_key():
    assert keys.parse_key(None) is None


@pytest.mark.parametrize(("raw", "reason"), [
    ("", "empty"), ("x" * 256, "256 characters"), ("clé", "printable ASCII"),
    ("tab\there", "printable ASCII"), ("nul\x00", "printable ASCII"), (" lead", "space"),
    ("trail ", "space"), ("del\x7f", "printable ASCII"),
])
def test_a_malformed_key_is_a_400_pointing_at_the_header(raw: str, reason: str):
    with pytest.raises(BadRequest) as refused:
        keys.parse_key(raw)
    (error,) = refused.value.details["errors"]
    assert error["pointer"] == "/headers/Idempotency-Key" and reason in error["reason"]


def test_records_are_per_tenant_and_bodies_compare_as_canonical_json():
    assert keys.record_id("t1", KEY) != keys.record_id("t2", KEY)
    assert keys.record_id("t1", "ab") != keys.record_id("t1a", "b")
    assert len(keys.record_id("t1", "x" * 255)) == 64  # any key: a fixed-size document id
    assert keys.body_digest({"a": 1, "b": [1, {"c": "é"}]}) == keys.body_digest(
        {"b": [1, {"c": "é"}], "a": 1})
    assert keys.body_digest({"a": 1}) != keys.body_digest({"a": 2})
    assert keys.body_digest({"a": "\ud800"})  # a lone surrogate from JSON is still hashable
