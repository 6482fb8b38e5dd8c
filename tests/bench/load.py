"""Many edges at once against the running local stack (`make bench`): Locust runs N simulated
edge instances, each with its own tenant, each running the edge's whole workflow with the
edge's own client (`vss.edge.client.EdgeClient`): upload the dataset, create a chained
GENERATE_COMMENTARY task, poll it with conditional requests until it ends, then download every
artifact its results record and check it against the recorded sha256 and size. N steps up
(1, 2, 4, 8, 16 by default); each edge runs a bounded number of workflows (2) in a bounded time.
Measures, never asserts.

Per step: throughput (tasks a minute), p50/p99 of every API call kind, task completion time,
Firestore writes and Pub/Sub publishes per task (counted from the stack's call logs,
`.vss/calls/`), the CPU each stack process used, and tasks lost (created, not COMPLETED in
time, or with an artifact that does not match). The knee is the first step whose API p99 is
twice the first step's; what saturates is the process that used the most CPU there.

Named figures go to build/bench.json (`tests.support.bench_figures`): `load.edges`,
`load.tasks_completed`, `load.tasks_lost`, `load.http_5xx`, `load.p99_ms` (the largest step's
API p99), `load.knee_edges` (0 when no step doubled the p99), and per step
`load.edges_<n>.{tasks_per_minute,p50_ms,p99_ms,task_p50_seconds,firestore_writes_per_task,
pubsub_publishes_per_task}`.
Run: `python -m tests.bench.load` with the stack up (offline engines: `make bench` starts it
with espeak-ng for this); `--smoke` for one edge and one task, `--help` for other sizes.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import gevent
import locust  # before requests: it patches the standard library for gevent
import requests
from locust.env import Environment
from locust.exception import StopUser

from tests.support.bench_figures import OUTPUT, describe, figure, record
from tests.support.paths import DATA
from tests.support.stack import cpu_seconds, new_tenant, stack_env
from vss.edge.client import EdgeClient
from vss.edge.run import recorded_artifacts

STEPS = (1, 2, 4, 8, 16)
WORKFLOWS_PER_EDGE = 2
STEP_SECONDS = 600.0
TASK_TIMEOUT = 540.0
DATASET = DATA / "narrative_dataset_small.json"
STATE = Path(__file__).resolve().parents[2] / ".vss"
WRITES = re.compile(r"^datastore\.entities\.(create|update|delete) ")
PUBLISHES = re.compile(r"^pubsub\.topics\.publish ")
_ID = re.compile(r"/[0-9a-f]{32}/|/[0-9a-f-]{36}/")


def call_name(response: requests.Response) -> str:
    """'GET /tasks/{id}/' for an API call, 'GET storage' for a signed download."""
    path = requests.utils.urlparse(response.request.url).path
    if "/api/v1/" not in path:
        return f"{response.request.method} storage"
    return f"{response.request.method} {_ID.sub('/{id}/', path.split('/api/v1', 1)[1])}"


@dataclass
class Outcome:
    completed: int = 0
    lost: list[str] = field(default_factory=list)
    task_seconds: list[float] = field(default_factory=list)
    http_5xx: int = 0


class EdgeUser(locust.User):
    """One edge instance (its own tenant) running the whole workflow, WORKFLOWS_PER_EDGE
    times, then stopping."""

    wait_time = locust.constant(0)
    api_url = ""
    # Set per step on a subclass (`run_step`): the tenants still to hand out, the results.
    credentials: ClassVar[list[dict[str, str]]] = []
    workflows = WORKFLOWS_PER_EDGE
    outcome: ClassVar[Outcome] = Outcome()

    def on_start(self) -> None:
        creds = self.credentials.pop()
        self.client = EdgeClient(self.api_url, creds["instance_id"], creds["api_key"])
        for session in (self.client.session, self.client.storage):
            session.hooks["response"].append(self._report)
        self.done = 0

    def _report(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        failed = response.status_code >= 500
        if failed:
            self.outcome.http_5xx += 1
        self.environment.events.request.fire(
            request_type="HTTP", name=call_name(response),
            response_time=response.elapsed.total_seconds() * 1000,
            response_length=len(response.content), response=response, context={},
            exception=RuntimeError(f"HTTP {response.status_code}") if failed else None)

    @locust.task
    def workflow(self) -> None:
        started = time.monotonic()
        task_id = "?"
        try:
            dataset = self.client.upload(DATASET)["relative_path"]
            task_id = self.client.create_task("GENERATE_COMMENTARY", {
                "blueprint_path": dataset,
                "narration": {"control_params": {"target_duration_minutes": 1}}})["id"]
            done = self.client.wait(task_id, timeout=TASK_TIMEOUT, interval=1.0)
            if done["status"] != "COMPLETED":
                raise RuntimeError(f"ended {done['status']}: {done.get('error')}")
            for path, artifact in recorded_artifacts(done["results"]).items():
                data = self.client.download_path(path)
                if hashlib.sha256(data).hexdigest() != artifact["sha256"] or \
                        len(data) != artifact.get("size", len(data)):
                    raise RuntimeError(f"{path} does not match its recorded sha256")
            self.outcome.completed += 1
            self.outcome.task_seconds.append(time.monotonic() - started)
        except Exception as exc:  # a lost task is a figure, not the end of the run
            self.outcome.lost.append(f"{task_id}: {exc}")
        self.done += 1
        if self.done >= self.workflows:
            raise StopUser()


def _call_counts() -> Counter[str]:
    """Firestore writes and Pub/Sub publishes the stack's functions have logged so far."""
    counts: Counter[str] = Counter()
    for log in (STATE / "calls").glob("*.log"):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if WRITES.match(line):
                counts["writes"] += 1
            elif PUBLISHES.match(line):
                counts["publishes"] += 1
    return counts


def run_step(api_url: str, edges: int, workflows: int, seconds: float) -> dict[str, Any]:
    """N edges at once; the step's measurements."""
    tenants = [new_tenant()[1] for _ in range(edges)]
    outcome = Outcome()
    user = type("Edge", (EdgeUser,), {"api_url": api_url, "credentials": tenants,
                                      "workflows": workflows, "outcome": outcome})
    environment = Environment(user_classes=[user])
    runner = environment.create_local_runner()
    calls_before, cpu_before, started = _call_counts(), cpu_seconds(), time.monotonic()
    runner.start(edges, spawn_rate=edges)
    deadline = started + seconds
    while time.monotonic() < deadline and \
            outcome.completed + len(outcome.lost) < edges * workflows:
        gevent.sleep(0.5)
    runner.quit()
    elapsed = time.monotonic() - started
    unfinished = edges * workflows - outcome.completed - len(outcome.lost)
    outcome.lost += [f"still running after {seconds:.0f} s"] * unfinished
    calls = _call_counts() - calls_before
    cpu_after = cpu_seconds()
    cpu = {name: round(cpu_after[name] - cpu_before.get(name, 0.0), 1) for name in cpu_after}
    api = [e for (name, _), e in environment.stats.entries.items() if "storage" not in name]
    latencies = [t for e in api for t, n in e.response_times.items() for _ in range(n)]
    tasks = max(outcome.completed, 1)
    return {
        "edges": edges, "seconds": round(elapsed, 1), "completed": outcome.completed,
        "lost": outcome.lost, "http_5xx": outcome.http_5xx,
        "tasks_per_minute": round(outcome.completed / elapsed * 60, 2),
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p99_ms": statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else
        (latencies[0] if latencies else 0.0),
        "task_p50_seconds": round(statistics.median(outcome.task_seconds), 1)
        if outcome.task_seconds else 0.0,
        "firestore_writes_per_task": round(calls["writes"] / tasks, 1),
        "pubsub_publishes_per_task": round(calls["publishes"] / tasks, 1),
        "cpu_seconds": dict(sorted(cpu.items(), key=lambda item: -item[1])),
        "calls": {f"{name}": {"requests": e.num_requests,
                              "p50_ms": e.get_response_time_percentile(0.5),
                              "p99_ms": e.get_response_time_percentile(0.99)}
                  for (name, _), e in sorted(environment.stats.entries.items())},
    }


def knee(steps: list[dict[str, Any]]) -> int:
    """The first step whose API p99 is twice the first step's (0: none)."""
    base = steps[0]["p99_ms"]
    return next((s["edges"] for s in steps[1:] if base and s["p99_ms"] >= 2 * base), 0)


def figures_of(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    last = steps[-1]
    context = {"steps": len(steps)}
    named = {
        "load.edges": figure(last["edges"], "edges", **context),
        "load.tasks_completed": figure(sum(s["completed"] for s in steps), "tasks", **context),
        "load.tasks_lost": figure(sum(len(s["lost"]) for s in steps), "tasks", **context),
        "load.http_5xx": figure(sum(s["http_5xx"] for s in steps), "responses", **context),
        "load.p99_ms": figure(round(last["p99_ms"], 1), "ms", edges=last["edges"]),
        "load.knee_edges": figure(knee(steps), "edges", **context),
    }
    units = {"tasks_per_minute": "tasks/min", "p50_ms": "ms", "p99_ms": "ms",
             "task_p50_seconds": "s", "firestore_writes_per_task": "writes",
             "pubsub_publishes_per_task": "messages"}
    for step in steps:
        for key, unit in units.items():
            named[f"load.edges_{step['edges']}.{key}"] = figure(
                round(step[key], 2), unit, edges=step["edges"], seconds=step["seconds"])
    return named


def report(steps: list[dict[str, Any]]) -> str:
    lines = [f"{'edges':>5}{'tasks':>7}{'lost':>6}{'5xx':>5}{'tasks/min':>11}{'p50 ms':>8}"
             f"{'p99 ms':>8}{'task p50 s':>12}{'writes/task':>13}{'publishes/task':>16}"
             f"  most CPU"]
    for s in steps:
        busiest = ", ".join(f"{n} {c:.0f} s" for n, c in list(s["cpu_seconds"].items())[:3])
        lines.append(f"{s['edges']:>5}{s['completed']:>7}{len(s['lost']):>6}{s['http_5xx']:>5}"
                     f"{s['tasks_per_minute']:>11.2f}{s['p50_ms']:>8.0f}{s['p99_ms']:>8.0f}"
                     f"{s['task_p50_seconds']:>12.1f}{s['firestore_writes_per_task']:>13.1f}"
                     f"{s['pubsub_publishes_per_task']:>16.1f}  {busiest}")
        lines += [f"      lost: {why}" for why in s["lost"]]
    found = knee(steps)
    lines.append(f"knee (API p99 twice the first step's): "
                 f"{f'{found} edges' if found else 'not reached'}")
    slowest = steps[-1]["calls"]
    lines += [f"  {name}: {c['requests']} requests, p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms"
              for name, c in slowest.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.load",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, nargs="+", default=list(STEPS),
                        help="edges at once, one step each (default: %(default)s)")
    parser.add_argument("--workflows", type=int, default=WORKFLOWS_PER_EDGE,
                        help="workflows each edge runs per step (default: %(default)s)")
    parser.add_argument("--step-seconds", type=float, default=STEP_SECONDS,
                        help="a step's time limit (default: %(default)s)")
    parser.add_argument("--smoke", action="store_true", help="one edge, one task")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    args = parser.parse_args(argv)
    steps_wanted = [1] if args.smoke else sorted(set(args.steps))
    workflows = 1 if args.smoke else args.workflows
    if steps_wanted[0] < 1 or workflows < 1:
        parser.error("--steps and --workflows must be 1 or more")
    api_url = stack_env()["VSS_API_URL"]
    steps = []
    for edges in steps_wanted:
        steps.append(run_step(api_url, edges, workflows, args.step_seconds))
        print(f"{edges} edges: {steps[-1]['completed']} tasks in {steps[-1]['seconds']} s",
              flush=True)
    print(report(steps))
    named = figures_of(steps)
    for name, value in named.items():
        print(describe(name, value))
    record(named, args.output)
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
