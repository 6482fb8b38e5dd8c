"""The editing benchmark at a smoke size, as `make bench` runs it: it must produce its named
figures (with the load beside each) in the bench file. Timing is never asserted here."""

from __future__ import annotations

from pathlib import Path

from tests.support.bench_smoke import assert_named_figures, run_benchmark


def test_the_editing_benchmark_writes_its_named_figures(tmp_path: Path):
    run = run_benchmark("editing", "--sizes", "20", "40", "--exports-at", "20",
                        output=tmp_path / "bench.json")
    names = {"editing.seconds_20": "s", "editing.seconds_40": "s",
             "editing.growth_20_to_40": "x", "exports.seconds_20": "s"}
    assert_named_figures(run, names)
