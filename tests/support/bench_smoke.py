"""Running a benchmark at its smoke size, as `make test` does so that none can rot: it runs as
`make bench` runs it (a module, in its own process) over a bench file that already holds an
earlier benchmark's figure, and must add its named figures, each with the load beside it.
Timing is never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT

# What tests.bench.run, which `make bench` runs first, leaves in the file.
EARLIER = {"run.cold_import_seconds_api": {"value": 0.6, "unit": "s"}}


@dataclass(frozen=True)
class SmokeRun:
    figures: dict[str, dict[str, Any]]
    stdout: str


def run_benchmark(module: str, *args: str, output: Path, timeout: float = 120) -> SmokeRun:
    """`python -m tests.bench.<module> ARGS --output OUTPUT`; it must exit 0 and keep what the
    file held before (the benchmarks share one file)."""
    output.write_text(json.dumps(EARLIER))
    done = subprocess.run(
        [sys.executable, "-m", f"tests.bench.{module}", *args, "--output", str(output)],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(output.read_text())
    assert {**figures, **EARLIER} == figures
    return SmokeRun(figures, done.stdout)


def assert_named_figures(run: SmokeRun, names: Mapping[str, str], *, prefix: str | None = None
                         ) -> None:
    """Each of `names` (name -> unit) was written with its unit, a positive value, the load
    average and the cores, and printed; with `prefix`, no other figure under it was."""
    if prefix is not None:
        assert {name for name in run.figures if name.startswith(prefix)} == set(names)
    for name, unit in names.items():
        measured = run.figures[name]
        assert measured["unit"] == unit and measured["value"] > 0, name
        assert len(measured["load_average"]) == 3 and measured["cores"] >= 1, name
        assert name in run.stdout, name
