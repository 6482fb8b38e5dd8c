"""The offline-voice benchmark at a smoke size (one sentence, one voice, every language): it
must produce its named figures (with the load beside each) in the bench file. What the
figures are is never asserted here: a recogniser's hearing is measured, not promised."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytest.importorskip("faster_whisper", reason="the bench extra (pip install -e '.[bench]')")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_the_voices_benchmark_writes_its_named_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps({"cold_import": []}))  # what tests.bench.run wrote first
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.voices", "--sentences", "1", "--voices", "espeak-ng",
         "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert "cold_import" in figures  # kept: the benchmarks share one file
    names = [f"voices.{lang}.espeak-ng.{pace}{metric}" for lang in ("zh", "en", "fr")
             for pace in ("", "paced.")
             for metric in ("cer", *(("syllable_error_rate", "toneless_syllable_error_rate")
                                   if lang == "zh" else ()))]
    for name in names:
        measured = figures[name]
        assert measured["unit"] == "ratio" and measured["value"] >= 0, name
        assert measured["sentences"] == 1 and measured["rate"] >= 1, name
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1, name
        assert name in done.stdout
    paces = {f"voices.{lang}.espeak-ng.units_per_second": unit
             for lang, unit in (("zh", "chars/s"), ("en", "words/s"), ("fr", "words/s"))}
    for name, unit in paces.items():
        assert figures[name]["unit"] == unit and figures[name]["value"] > 0, name
    assert sorted(n for n in figures if n.startswith("voices.")) == sorted([*names, *paces])
