"""The dubbing benchmark at a smoke size, as `make bench` runs it: it must produce its named
figures (with the load beside each) in the bench file. Timing is never asserted here. Kokoro
is left out (loading it takes longer than the whole smoke should); espeak-ng stands for the
offline engines, through the same fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT


def test_the_dubbing_benchmark_writes_its_named_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    earlier = {"run.cold_import_seconds_api": {"value": 0.6, "unit": "s"}}
    output.write_text(json.dumps(earlier))  # what tests.bench.run wrote first
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.dubbing", "--audio-seconds", "3", "--runs", "1",
         "--engines", "espeak-ng", "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert {**figures, **earlier} == figures  # kept: the benchmarks share one file
    names = {"dubbing.espeak_ng_load_seconds": "s", "dubbing.espeak_ng_peak_rss_mib": "MiB",
             "dubbing.espeak_ng_rtf_zh": "x", "dubbing.espeak_ng_rtf_en": "x"}
    for step in ("decode_resample_trim", "normalise_limit", "encode", "postprocess", "atempo"):
        names |= {f"dubbing.{step}_seconds": "s", f"dubbing.{step}_x_real_time": "x"}
    assert {name for name in figures if name.startswith("dubbing.")} == set(names)
    for name, unit in names.items():
        measured = figures[name]
        assert measured["unit"] == unit and measured["value"] > 0, name
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1, name
        assert name in done.stdout
