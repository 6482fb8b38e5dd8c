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
    names = ["voices.zh.espeak-ng.cer", "voices.zh.espeak-ng.syllable_error_rate",
             "voices.zh.espeak-ng.toneless_syllable_error_rate", "voices.en.espeak-ng.cer",
             "voices.fr.espeak-ng.cer"]
    for name in names:
        measured = figures[name]
        assert measured["unit"] == "ratio" and measured["value"] >= 0, name
        assert measured["sentences"] == 1, name
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1, name
        assert name in done.stdout
    assert not [name for name in figures if name.startswith("voices.") and name not in names]
