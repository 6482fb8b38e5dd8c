"""`vss run` against the running local stack (`make bench`): wall time of each step as the CLI
sees it (upload, each stage, downloads) for a short and a longer narration of the real
blueprint, a second run (which must redo nothing), and the same downloads with 1, 4 and 8 at
once. Measures, never asserts. Prints a report and writes build/bench-cli.json.
Run: `python -m tests.bench.run_cli` with the stack up.

Stage times come from the CLI's polls (backoff from 0.25 s, back to it whenever the task
moves), so a stage shorter than a poll shows as "between polls".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.paths import BLUEPRINT, ROOT
from tests.support.stack import ENV_FILE, new_tenant
from vss.config import load_local_env
from vss.edge.state import STATE_FILE

VSS = Path(sys.executable).parent / "vss"
OUTPUT = ROOT / "build" / "bench-cli.json"
MINUTES = ("1", "3")
PARALLEL = (1, 4, 8)
STEPS = ("upload", "narration", "dubbing", "dubbing_assembly", "editing", "download")


def _run(env: dict[str, str], out: Path, *args: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run([str(VSS), "run", str(BLUEPRINT), "--out", str(out), "--json", *args],
                          env=env, capture_output=True, text=True, timeout=1800, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"vss run failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def one_case(env: dict[str, str], minutes: str, folder: Path) -> dict[str, Any]:
    out = folder / f"min{minutes}"
    args = ("--minutes", minutes)
    wall, first = _run(env, out, *args)
    again, second = _run(env, out, *args)
    sizes = sum(f["size"] for f in first["files"].values())
    downloads = {}
    for parallel in PARALLEL:  # the same task's files again, fetched n at a time
        for path in out.iterdir():
            if path.name != STATE_FILE:
                path.unlink()
        _, fetched = _run(env, out, *args, "--parallel", str(parallel))
        downloads[parallel] = fetched["timings"]["download"]
    return {
        "minutes": float(minutes), "task_id": first["task_id"], "wall_seconds": wall,
        "steps": {k: first["timings"].get(k) for k in STEPS},
        "between_polls": first["between_polls"], "files": len(first["files"]),
        "bytes": sizes, "second_run_seconds": again,
        "second_run_redid": {"upload": second["uploaded"], "task": second["created"],
                             "downloads": len(second["downloaded"])},
        "download_seconds_by_parallel": downloads,
    }


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
            f"{n} at once {by[n]:.2f} s ({case['bytes'] / 1e6 / by[n]:.0f} MB/s)" for n in by))
    return "\n".join(lines)


def main() -> None:
    load_local_env(ENV_FILE)
    _, creds = new_tenant()
    env = {**os.environ, "VSS_INSTANCE_ID": creds["instance_id"],
           "VSS_API_KEY": creds["api_key"]}
    with tempfile.TemporaryDirectory() as tmp:
        cases = [one_case(env, minutes, Path(tmp)) for minutes in MINUTES]
    print(report(cases))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(cases, indent=2))


if __name__ == "__main__":
    main()
