"""`vss run` against the running local stack (`make bench`): wall time of each step as the CLI
sees it (upload, each stage, downloads) for a short and a longer narration of the real
blueprint, a second run (which must redo nothing), and the same downloads with 1, 4 and 8 at
once. Measures, never asserts.

Stage times come from the CLI's polls (backoff from 0.25 s, back to it whenever the task
moves), so a stage shorter than a poll shows as "between polls".

Named figures go to build/bench.json (`tests.support.bench_figures`), each with the load
average, one per time printed; `<case>` is the target length, `min1` for 1 minute:
`run_cli.<case>.seconds` (the whole run, with its files and bytes),
`run_cli.<case>.<step>_seconds` for each step the polls timed (`upload`, `narration`,
`dubbing`, `dubbing_assembly`, `editing`, `download`; a stage between two polls has none),
`run_cli.<case>.second_run_seconds` (with what it did again: `reuploaded`, `new_task`,
`refetched`, all 0 when it redid nothing) and `run_cli.<case>.download_seconds_parallel_<n>`
(the task's files fetched again, n at once, with their bytes and MB/s).
Run: `python -m tests.bench.run_cli` with the stack up; `--smoke` for a small run, `--help`
for other sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.bench_figures import OUTPUT, describe, figure, record
from tests.support.paths import BLUEPRINT
from tests.support.stack import ENV_FILE, new_tenant
from vss.config import load_local_env
from vss.edge.state import STATE_FILE

VSS = Path(sys.executable).parent / "vss"
MINUTES = (1.0, 3.0)
PARALLEL = (1, 4, 8)
# A small run (the test suite's): a 1-minute narration, its downloads fetched again 4 at once.
SMOKE_MINUTES, SMOKE_PARALLEL = (1.0,), (4,)
STEPS = ("upload", "narration", "dubbing", "dubbing_assembly", "editing", "download")

Figures = dict[str, dict[str, Any]]


def _run(env: dict[str, str], out: Path, *args: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run([str(VSS), "run", str(BLUEPRINT), "--out", str(out), "--json", *args],
                          env=env, capture_output=True, text=True, timeout=1800, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"vss run failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def case_key(minutes: float) -> str:
    """The case in the figures' names: `min1` for 1 minute, `min1_5` for 1.5."""
    return f"min{minutes:g}".replace(".", "_")


def one_case(env: dict[str, str], minutes: float, folder: Path,
             parallel: Sequence[int] = PARALLEL) -> tuple[dict[str, Any], Figures]:
    """One target length: the row of the report, and its figures (each taken as its run
    ends)."""
    prefix = f"run_cli.{case_key(minutes)}"
    out = folder / case_key(minutes)
    args = ("--minutes", f"{minutes:g}")
    wall, first = _run(env, out, *args)
    steps = {k: first["timings"].get(k) for k in STEPS}
    sizes = sum(f["size"] for f in first["files"].values())
    figures = {f"{prefix}.seconds": figure(round(wall, 3), "s", files=len(first["files"]),
                                           bytes=sizes)}
    for step, seconds in steps.items():
        if seconds is not None:
            figures[f"{prefix}.{step}_seconds"] = figure(round(seconds, 3), "s")
    again, second = _run(env, out, *args)
    redid = {"upload": second["uploaded"], "task": second["created"],
             "downloads": len(second["downloaded"])}
    figures[f"{prefix}.second_run_seconds"] = figure(
        round(again, 3), "s", reuploaded=int(redid["upload"]), new_task=int(redid["task"]),
        refetched=redid["downloads"])
    downloads = {}
    for n in parallel:  # the same task's files again, fetched n at a time
        for path in out.iterdir():
            if path.name != STATE_FILE:
                path.unlink()
        _, fetched = _run(env, out, *args, "--parallel", str(n))
        seconds = downloads[n] = fetched["timings"]["download"]
        figures[f"{prefix}.download_seconds_parallel_{n}"] = figure(
            seconds, "s", bytes=sizes,
            megabytes_per_second=round(sizes / 1e6 / max(seconds, 1e-3), 1))
    return {
        "minutes": minutes, "task_id": first["task_id"], "wall_seconds": wall,
        "steps": steps, "between_polls": first["between_polls"],
        "files": len(first["files"]), "bytes": sizes, "second_run_seconds": again,
        "second_run_redid": redid, "download_seconds_by_parallel": downloads,
    }, figures


def report(cases: list[dict[str, Any]]) -> str:
    lines = [f"vss run on the real blueprint, load {os.getloadavg()[0]:.1f} on "
             f"{os.cpu_count()} cores",
             "| target | " + " | ".join(STEPS) + " | whole run | second run |",
             "|---" * (len(STEPS) + 3) + "|"]
    for case in cases:
        steps = case["steps"]
        cells = ["between polls" if s in case["between_polls"] else
                 "-" if steps[s] is None else f"{steps[s]:.2f} s" for s in STEPS]
        lines.append(f"| {case['minutes']:g} min | " + " | ".join(cells)
                     + f" | {case['wall_seconds']:.1f} s | {case['second_run_seconds']:.2f} s |")
    for case in cases:
        redid = case["second_run_redid"]
        lines.append(f"- {case['minutes']:g} min: {case['files']} files, "
                     f"{case['bytes'] / 1e6:.1f} MB; second run re-uploaded {redid['upload']}, "
                     f"new task {redid['task']}, {redid['downloads']} files fetched again")
        by = case["download_seconds_by_parallel"]
        lines.append("  downloads, verified: " + ", ".join(
            f"{n} at once {by[n]:.2f} s ({case['bytes'] / 1e6 / max(by[n], 1e-3):.0f} MB/s)"
            for n in by))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run_cli",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="a small run (the test suite's): a 1-minute narration, its "
                             "downloads fetched again 4 at once")
    parser.add_argument("--minutes", type=float, nargs="+",
                        help="the narrations' target minutes, a case each (default: 1 3)")
    parser.add_argument("--parallel", type=int, nargs="+",
                        help="downloads at once, timed again for each (default: 1 4 8)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    args = parser.parse_args(argv)
    minutes = args.minutes or (SMOKE_MINUTES if args.smoke else MINUTES)
    parallel = args.parallel or (SMOKE_PARALLEL if args.smoke else PARALLEL)
    if min(minutes) <= 0 or min(parallel) < 1:
        parser.error("--minutes must be above 0 and --parallel 1 or more")
    load_local_env(ENV_FILE)
    _, creds = new_tenant()
    env = {**os.environ, "VSS_INSTANCE_ID": creds["instance_id"],
           "VSS_API_KEY": creds["api_key"]}
    cases, figures = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for target in dict.fromkeys(minutes):
            case, measured = one_case(env, target, Path(tmp), tuple(dict.fromkeys(parallel)))
            cases.append(case)
            figures.update(measured)
            record(measured, args.output)
    print(report(cases))
    print()
    for name, value in figures.items():
        print(describe(name, value))
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
