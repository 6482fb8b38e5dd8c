"""Status polling against the running local stack (`make bench`): 16 edges poll one finished
task back to back for a bounded time, first unconditionally (the whole view every time, as
before ETags), then as `EdgeClient.get_task` does, with `If-None-Match` (304 while nothing
changed). Measures, never asserts.

Named figures go to build/bench.json (`tests.support.bench_figures`), each with the load
average and the clients, seconds and requests of its run: `polling.p50_ms`, `polling.p99_ms`,
`polling.max_ms`, `polling.requests_per_second`, `polling.not_modified_share` and
`polling.body_bytes_per_poll` with `If-None-Match`, and the same without it
(`polling.unconditional_p50_ms`, ..., `polling.unconditional_body_bytes_per_poll`; no 304 share,
which is 0 there).
Run: `python -m tests.bench.polling` with the stack up; `--smoke` for a small run, `--help` for
other sizes.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.bench_figures import OUTPUT, describe, figure, load_average, record
from tests.support.paths import BLUEPRINT
from tests.support.poll_load import poll_load
from tests.support.stack import ENV_FILE, new_tenant
from vss.config import load_local_env
from vss.edge.client import EdgeClient

CLIENTS = 16
SECONDS = 10.0
# A small run (the test suite's): 4 edges, 1 s each way.
SMOKE_CLIENTS, SMOKE_SECONDS = 4, 1.0
TASK_TIMEOUT = 180.0
# The figures of a run, their units, and whether the unconditional run has one too.
MEASURES = (("p50_ms", "ms", True), ("p99_ms", "ms", True), ("max_ms", "ms", True),
            ("requests_per_second", "req/s", True), ("not_modified_share", "ratio", False),
            ("body_bytes_per_poll", "B", True))

Figures = dict[str, dict[str, Any]]


def finished_task(edge: EdgeClient) -> str:
    """Upload the blueprint and run a narration task through the stack; its id once ended."""
    relative_path = edge.upload(BLUEPRINT)["relative_path"]
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": relative_path})
    done = edge.wait(task["id"], timeout=TASK_TIMEOUT)
    if done["status"] != "COMPLETED":
        raise RuntimeError(f"narration over the API ended {done['status']}: {done['error']}")
    return str(task["id"])


def named(polled: dict[str, Any]) -> Figures:
    """The figures of one run of `poll_load`, named (`polling.unconditional_...` for the run
    without `If-None-Match`)."""
    prefix = "polling." if polled["conditional"] else "polling.unconditional_"
    context = {key: polled[key] for key in ("clients", "seconds", "requests")}
    return {f"{prefix}{key}": figure(polled[key], unit, **context)
            for key, unit, unconditional in MEASURES if polled["conditional"] or unconditional}


def measure(api_url: str, creds: dict[str, str], task_id: str, clients: int = CLIENTS,
            seconds: float = SECONDS) -> tuple[dict[str, Any], Figures]:
    """The same task polled unconditionally, then conditionally: the conditional figures,
    with the unconditional ones beside them, and all of them named (each run's taken as it
    ends)."""
    def new_client() -> EdgeClient:
        return EdgeClient(api_url, creds["instance_id"], creds["api_key"])

    before = load_average()
    unconditional = poll_load(new_client, task_id, clients=clients, seconds=seconds,
                              conditional=False)
    figures = named(unconditional)
    conditional = poll_load(new_client, task_id, clients=clients, seconds=seconds)
    figures.update(named(conditional))
    return {**conditional, "unconditional": unconditional,
            "load_average_before": before, "load_average_after": load_average(),
            "cores": os.cpu_count()}, figures


def report(figures: dict[str, Any]) -> str:
    load = f"{figures['load_average_before'][0]:.1f} → {figures['load_average_after'][0]:.1f}"
    lines = [f"Status polling: {figures['clients']} clients polling one finished task back to "
             f"back, {figures['seconds']:g} s each way, load {load} on {figures['cores']} cores",
             "| polls | requests | req/s | p50 ms | p99 ms | 304 share | body bytes/poll |",
             "|---|---|---|---|---|---|---|"]
    for label, row in (("unconditional", figures["unconditional"]), ("If-None-Match", figures)):
        lines.append(f"| {label} | {row['requests']} | {row['requests_per_second']} | "
                     f"{row['p50_ms']} | {row['p99_ms']} | {row['not_modified_share']:.1%} | "
                     f"{row['body_bytes_per_poll']} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.polling",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help=f"a small run (the test suite's): {SMOKE_CLIENTS} edges, "
                             f"{SMOKE_SECONDS:g} s each way")
    parser.add_argument("--clients", type=int,
                        help=f"edges polling at once (default: {CLIENTS})")
    parser.add_argument("--seconds", type=float,
                        help=f"how long they poll, each way (default: {SECONDS:g})")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    args = parser.parse_args(argv)
    smoke = args.smoke
    clients = args.clients if args.clients is not None else SMOKE_CLIENTS if smoke else CLIENTS
    seconds = args.seconds if args.seconds is not None else SMOKE_SECONDS if smoke else SECONDS
    if clients < 1 or seconds <= 0:
        parser.error("--clients must be 1 or more and --seconds above 0")
    load_local_env(ENV_FILE)
    edge, creds = new_tenant()
    polled, figures = measure(os.environ["VSS_API_URL"], creds, finished_task(edge), clients,
                              seconds)
    print(report(polled))
    print()
    for name, value in figures.items():
        print(describe(name, value))
    # Other benchmarks write this file too (tests.bench.run, first in `make bench`): add to it.
    record(figures, args.output)
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
