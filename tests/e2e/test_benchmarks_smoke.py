"""The stack benchmarks of `make bench` at a smoke size, against the local stack: each must run
and write its named figures (unit, value, the load average and cores beside each) to the bench
file it is given, so none can rot between `make bench` runs. Timing is never asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import ROOT
from tests.support.stack import stack_env

pytestmark = pytest.mark.integration

# What another benchmark wrote to the shared bench file before this one.
EARLIER = {"editing.seconds_20": {"value": 0.1, "unit": "s"}}
STEPS_TIMED = ("upload", "narration", "dubbing", "dubbing_assembly", "editing", "download")


def bench(module: str, output: Path, *args: str) -> tuple[dict[str, dict[str, Any]], str]:
    """Run `python -m tests.bench.<module> --smoke --output <output> ...` as `make bench`
    would; the bench file's figures and what it printed."""
    stack_env()  # fails with `make up` to run when the stack is down
    # The test stack's speech engine, as `make test` starts the stack: the in-process dubbing
    # of tests.bench.run would otherwise load Kokoro first.
    env = {**os.environ, "VSS_TTS_OFFLINE_ENGINES": "espeak-ng"}
    done = subprocess.run(
        [sys.executable, "-m", f"tests.bench.{module}", "--smoke", "--output", str(output),
         *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads(output.read_text()), done.stdout


def check(figures: dict[str, dict[str, Any]], printed: str, units: dict[str, str],
          positive: set[str]) -> None:
    """Each named figure is there with its unit, a number (above 0 where it must be), the
    load it was measured under and the cores, and printed."""
    for name, unit in units.items():
        assert name in figures, f"{name} missing from {sorted(figures)}"
        measured = figures[name]
        assert measured["unit"] == unit, name
        assert isinstance(measured["value"], int | float) and measured["value"] >= 0, name
        if name in positive:
            assert measured["value"] > 0, name
        assert len(measured["load_average"]) == 3, name
        assert all(load >= 0 for load in measured["load_average"]), name
        assert measured["cores"] >= 1 and measured["measured_at"], name
        assert f"{name} = " in printed, name


def test_the_pipeline_benchmark_starts_the_bench_file_afresh_with_its_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps(EARLIER))  # a previous `make bench`'s: replaced
    figures, printed = bench("run", output)
    assert not set(EARLIER) & set(figures)
    assert all(name.startswith("run.") for name in figures)
    units = {"run.cold_import_seconds_api": "s", "run.cold_import_process_seconds_api": "s",
             "run.cold_import_peak_rss_mib_api": "MiB",
             "run.status_poll_p50_ms": "ms", "run.status_poll_p99_ms": "ms",
             "run.status_poll_max_ms": "ms", "run.status_poll_requests_per_second": "req/s",
             "run.unchanged_updates": "updates"}
    for kind in ("upload", "narration", "dubbing", "editing"):
        units |= {f"run.{kind}.firestore_writes": "writes",
                  f"run.{kind}.lease_heartbeat_writes": "writes",
                  f"run.{kind}.pubsub_messages": "messages",
                  f"run.{kind}.cloud_tasks": "tasks", f"run.{kind}.seconds": "s"}
    stages = {"run.narration.stage_seconds_narration", "run.dubbing.stage_seconds_dubbing",
              "run.dubbing.stage_seconds_segments",
              "run.dubbing.stage_seconds_dubbing_assembly", "run.editing.stage_seconds_editing"}
    units |= dict.fromkeys(stages, "s")
    assert set(figures) == set(units)
    # Counts that are never 0: every task is written; each stage is a message and a check.
    positive = ({name for name, unit in units.items() if unit in ("s", "ms", "MiB", "req/s")}
                | {f"run.{kind}.firestore_writes" for kind in
                   ("upload", "narration", "dubbing", "editing")}
                | {f"run.{kind}.{count}" for kind in ("narration", "dubbing", "editing")
                   for count in ("pubsub_messages", "cloud_tasks")})
    check(figures, printed, units, positive)
    # The fresh interpreter's own peak, not this benchmark's carried into it: a module's
    # import holds tens of MiB at least, and no process there grows to a GiB.
    assert 20 < figures["run.cold_import_peak_rss_mib_api"]["value"] < 1024
    assert figures["run.status_poll_p50_ms"]["requests"] >= 1
    assert figures["run.status_poll_p50_ms"]["non_200"] == 0


def test_the_cli_benchmark_adds_its_figures_to_the_bench_file(tmp_path: Path):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps(EARLIER))  # what a benchmark before it wrote: kept
    figures, printed = bench("run_cli", output)
    assert figures["editing.seconds_20"] == EARLIER["editing.seconds_20"]
    ours = {name for name in figures if name.startswith("run_cli.")}
    required = {"run_cli.min1.seconds", "run_cli.min1.second_run_seconds",
                "run_cli.min1.download_seconds_parallel_4"}
    # A stage quicker than a poll has no time, so no figure: those the polls timed.
    timed = {f"run_cli.min1.{step}_seconds" for step in STEPS_TIMED}
    assert required <= ours <= required | timed
    assert {"run_cli.min1.upload_seconds", "run_cli.min1.download_seconds"} <= ours
    check(figures, printed, dict.fromkeys(ours, "s"),
          positive=required | {"run_cli.min1.download_seconds"})
    whole = figures["run_cli.min1.seconds"]
    assert whole["files"] >= 1 and whole["bytes"] > 0
    again = figures["run_cli.min1.second_run_seconds"]
    assert (again["reuploaded"], again["new_task"], again["refetched"]) == (0, 0, 0)


def test_the_polling_benchmark_adds_its_figures_to_the_bench_file(tmp_path: Path):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps(EARLIER))
    figures, printed = bench("polling", output)
    assert figures["editing.seconds_20"] == EARLIER["editing.seconds_20"]
    units: dict[str, str] = {}
    for prefix in ("polling.", "polling.unconditional_"):
        units |= {f"{prefix}p50_ms": "ms", f"{prefix}p99_ms": "ms", f"{prefix}max_ms": "ms",
                  f"{prefix}requests_per_second": "req/s", f"{prefix}body_bytes_per_poll": "B"}
    units["polling.not_modified_share"] = "ratio"
    assert {name for name in figures if name.startswith("polling.")} == set(units)
    # Every edge's first poll fetches the view: bytes cross even with If-None-Match.
    check(figures, printed, units, positive=set(units) - {"polling.not_modified_share"})
    assert 0 <= figures["polling.not_modified_share"]["value"] <= 1
    for name in units:
        assert figures[name]["clients"] >= 1 and figures[name]["requests"] >= 1, name


def test_the_load_benchmark_runs_an_edge_workflow_and_adds_its_figures(tmp_path: Path):
    output = tmp_path / "bench.json"
    output.write_text(json.dumps(EARLIER))
    figures, printed = bench("load", output)
    assert figures["editing.seconds_20"] == EARLIER["editing.seconds_20"]
    units = {"load.edges": "edges", "load.tasks_completed": "tasks", "load.tasks_lost": "tasks",
             "load.http_5xx": "responses", "load.p99_ms": "ms", "load.knee_edges": "edges"}
    step = {"tasks_per_minute": "tasks/min", "p50_ms": "ms", "p99_ms": "ms",
            "task_p50_seconds": "s", "firestore_writes_per_task": "writes",
            "pubsub_publishes_per_task": "messages"}
    units |= {f"load.edges_1.{key}": unit for key, unit in step.items()}
    assert {name for name in figures if name.startswith("load.")} == set(units)
    check(figures, printed, units, positive={
        "load.edges", "load.tasks_completed", "load.p99_ms", *(
            f"load.edges_1.{key}" for key in step)})
    # The one workflow completed, with its artifacts verified: nothing lost, no 5xx.
    assert figures["load.tasks_completed"]["value"] == 1
    assert figures["load.tasks_lost"]["value"] == figures["load.http_5xx"]["value"] == 0
