"""Where the repository and the test data are (tests read nothing outside the repository)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
BLUEPRINT = ROOT / "examples" / "blueprint_contract_girlfriend.json"
