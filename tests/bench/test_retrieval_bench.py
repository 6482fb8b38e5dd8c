"""The story index benchmark at a smoke size, as `make bench` runs it: it must produce its
named figures (with the load beside each) in the bench file. Timing is never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def test_the_retrieval_benchmark_writes_its_named_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    earlier = {"run.cold_import_seconds_api": {"value": 0.6, "unit": "s"}}
    output.write_text(json.dumps(earlier))  # what tests.bench.run wrote first
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.retrieval", "--sizes", "20", "40", "--rounds", "1",
         "--api-searches", "5", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert {**figures, **earlier} == figures  # kept: the benchmarks share one file
    names = {"retrieval.cold_import_seconds": "s", "retrieval.first_cut_seconds": "s",
             "retrieval.cold_import_peak_rss_mib": "MiB", "retrieval.api_first_search_ms": "ms",
             "retrieval.api_search_p50_ms": "ms", "retrieval.api_search_p99_ms": "ms"}
    for key in ("blueprint", "20", "40"):
        names |= {f"retrieval.build_seconds_{key}": "s", f"retrieval.build_peak_mib_{key}": "MiB",
                  f"retrieval.artifact_kib_{key}": "KiB", f"retrieval.load_ms_{key}": "ms",
                  f"retrieval.search_p50_ms_{key}": "ms", f"retrieval.search_p99_ms_{key}": "ms"}
    assert {name for name in figures if name.startswith("retrieval.")} == set(names)
    for name, unit in names.items():
        measured = figures[name]
        assert measured["unit"] == unit and measured["value"] > 0, name
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1, name
        assert name in done.stdout
