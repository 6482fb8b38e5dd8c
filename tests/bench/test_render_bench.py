"""The render benchmark at its smoke size, as `make bench` runs it at full size: it must
produce its named figures (with the load beside each) in the bench file. Timing is never
asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def test_the_render_benchmark_writes_its_named_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps({"cold_import": []}))  # what tests.bench.run wrote first
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.render", "--smoke", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert "cold_import" in figures  # kept: the benchmarks share one file
    names = {"render.speedup_vs_naive": "x", "render.check_share": "%",
             "render.realtime_factor": "x"}
    for name, unit in names.items():
        measured = figures[name]
        assert measured["unit"] == unit and measured["value"] > 0, name
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1, name
        assert name in done.stdout
    speedup = figures["render.speedup_vs_naive"]
    assert speedup["cuts_on_frame"] == speedup["cuts"] == 16  # 8 clips, both edges on frame
    assert 0 <= speedup["naive_cuts_on_frame"] <= 16
