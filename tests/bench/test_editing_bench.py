"""The editing benchmark at a smoke size, as `make bench` runs it: it must produce its named
figures (with the load beside each) in the bench file. Timing is never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def test_the_editing_benchmark_writes_its_named_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    earlier = {"run.cold_import_seconds_api": {"value": 0.6, "unit": "s"}}
    output.write_text(json.dumps(earlier))  # what tests.bench.run wrote first
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.editing", "--sizes", "20", "40",
         "--exports-at", "20", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert {**figures, **earlier} == figures  # kept: the benchmarks share one file
    names = {"editing.seconds_20": "s", "editing.seconds_40": "s",
             "editing.growth_20_to_40": "x", "exports.seconds_20": "s"}
    for name, unit in names.items():
        measured = figures[name]
        assert measured["unit"] == unit and measured["value"] > 0, name
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1, name
        assert name in done.stdout
