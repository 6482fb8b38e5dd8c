"""The dubbing benchmark at a smoke size, as `make bench` runs it: it must produce its named
figures (with the load beside each) in the bench file. Timing is never asserted here. Kokoro
is left out (loading it takes longer than the whole smoke should); espeak-ng stands for the
offline engines, through the same fresh process."""

from __future__ import annotations

from pathlib import Path

from tests.support.bench_smoke import assert_named_figures, run_benchmark


def test_the_dubbing_benchmark_writes_its_named_figures(tmp_path: Path):
    run = run_benchmark("dubbing", "--audio-seconds", "3", "--runs", "1", "--engines",
                        "espeak-ng", output=tmp_path / "bench.json")
    names = {"dubbing.espeak_ng_load_seconds": "s", "dubbing.espeak_ng_peak_rss_mib": "MiB",
             "dubbing.espeak_ng_rtf_zh": "x", "dubbing.espeak_ng_rtf_en": "x"}
    for step in ("decode_resample_trim", "normalise_limit", "encode", "postprocess", "atempo"):
        names |= {f"dubbing.{step}_seconds": "s", f"dubbing.{step}_x_real_time": "x"}
    assert_named_figures(run, names, prefix="dubbing.")
