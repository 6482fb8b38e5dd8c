"""Docs and generated files that must not drift from the code."""

from __future__ import annotations

from tests.support.paths import ROOT
from vss.config import Settings
from vss.schemas import stale


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    missing = [f"VSS_{n.upper()}" for n in Settings.model_fields
               if f"`VSS_{n.upper()}`" not in readme]
    assert missing == []


def test_schemas_are_fresh():
    assert stale() == []
