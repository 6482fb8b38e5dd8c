"""The fan-out benchmark at its smoke size on the stack, as `make bench` runs it at full size:
it must profile a run and write its named figures. Timing is never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.integration


def test_the_fan_out_benchmark_profiles_a_run_and_writes_its_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "tests.bench.fan_out", "--smoke",
                           "--output", str(output)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(output.read_text())
    efficiency = figures["fan_out.efficiency_c4"]
    assert efficiency["unit"] == "ratio" and 0 < efficiency["value"] <= 1.0
    assert efficiency["peak_in_flight"] == 4  # the relay pushed at the worker's concurrency
    assert efficiency["synthesis_ms"] >= 200  # the fake's latency, measured from its records
    assert figures["fan_out.c4_retries"]["unit"] == "count"
    assert figures["fan_out.c4_fan_in_ms"]["value"] >= 0
    for measured in figures.values():
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1
    assert "segments phase" in done.stdout
