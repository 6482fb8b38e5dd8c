"""The story index benchmark at a smoke size, as `make bench` runs it: it must produce its
named figures (with the load beside each) in the bench file. Timing is never asserted here."""

from __future__ import annotations

from pathlib import Path

from tests.support.bench_smoke import assert_named_figures, run_benchmark


def test_the_retrieval_benchmark_writes_its_named_figures(tmp_path: Path):
    run = run_benchmark("retrieval", "--sizes", "20", "40", "--rounds", "1",
                        "--api-searches", "5", output=tmp_path / "bench.json")
    names = {"retrieval.cold_import_seconds": "s", "retrieval.first_cut_seconds": "s",
             "retrieval.cold_import_peak_rss_mib": "MiB"}
    for key in ("blueprint", "20", "40"):
        names |= {f"retrieval.api_first_search_ms_{key}": "ms",
                  f"retrieval.api_search_p50_ms_{key}": "ms",
                  f"retrieval.api_search_p99_ms_{key}": "ms"}
        names |= {f"retrieval.build_seconds_{key}": "s", f"retrieval.build_peak_mib_{key}": "MiB",
                  f"retrieval.artifact_kib_{key}": "KiB", f"retrieval.load_ms_{key}": "ms",
                  f"retrieval.search_p50_ms_{key}": "ms", f"retrieval.search_p99_ms_{key}": "ms"}
    assert_named_figures(run, names, prefix="retrieval.")
