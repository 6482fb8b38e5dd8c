"""The narration benchmark at a smoke size, as `make bench` runs it: it must produce its named
figures (with the load beside each) in the bench file. Timing is never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT
from vss.domain.payloads import NarrativeFocus


def test_the_narration_benchmark_writes_its_named_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    earlier = {"run.cold_import_seconds_api": {"value": 0.6, "unit": "s"}}
    output.write_text(json.dumps(earlier))  # what tests.bench.run wrote first
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.narration", "--sizes", "20", "40", "--runs", "1",
         "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert {**figures, **earlier} == figures  # kept: the benchmarks share one file
    names = {"narration.growth_20_to_40": "x", "narration.peak_growth_20_to_40": "x"}
    for key in ("blueprint", "20", "40"):
        names |= {f"narration.normalise_seconds_{key}": "s",
                  f"narration.normalise_peak_mib_{key}": "MiB",
                  f"narration.write_seconds_{key}": "s",
                  f"narration.write_peak_mib_{key}": "MiB",
                  f"narration.us_per_scene_{key}": "µs"}
    for key in ("blueprint", "40"):
        names |= {f"narration.focus_{focus.value}_seconds_{key}": "s"
                  for focus in NarrativeFocus}
    assert {name for name in figures if name.startswith("narration.")} == set(names)
    for name, unit in names.items():
        measured = figures[name]
        assert measured["unit"] == unit and measured["value"] > 0, name
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1, name
        assert name in done.stdout
