"""The narration benchmark at a smoke size, as `make bench` runs it: it must produce its named
figures (with the load beside each) in the bench file. Timing is never asserted here."""

from __future__ import annotations

from pathlib import Path

from tests.support.bench_smoke import assert_named_figures, run_benchmark
from vss.domain.payloads import NarrativeFocus


def test_the_narration_benchmark_writes_its_named_figures(tmp_path: Path):
    run = run_benchmark("narration", "--sizes", "20", "40", "--runs", "1",
                        output=tmp_path / "bench.json")
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
    assert_named_figures(run, names, prefix="narration.")
