"""Pipeline benchmark against the running local stack (`make bench`): cold start of each
function module, API status-poll latency, and Firestore writes / Pub/Sub messages / Cloud Tasks
per task type. Measures, never asserts.

`make bench` runs it first: it starts build/bench.json afresh, and the benchmarks after it add
their figures to it. Named figures (`tests.support.bench_figures`), each with the load average,
one per number printed: `run.cold_import_seconds_<function>` (median of the fresh processes'
import), `run.cold_import_process_seconds_<function>` (the whole process, interpreter start-up
included) and `run.cold_import_peak_rss_mib_<function>` (the fresh process's own peak);
`run.status_poll_p50_ms`, `run.status_poll_p99_ms`, `run.status_poll_max_ms` and
`run.status_poll_requests_per_second`; per task (`<kind>`: `upload`, `narration`, `dubbing`,
`editing`) `run.<kind>.firestore_writes`, `run.<kind>.lease_heartbeat_writes`,
`run.<kind>.pubsub_messages`, `run.<kind>.cloud_tasks`, `run.<kind>.seconds` and
`run.<kind>.stage_seconds_<stage>`; and `run.unchanged_updates` (updates that committed no write).
Run: `python -m tests.bench.run` with the stack up; `--smoke` for a small run, `--help` for
other sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import requests

from tests.support.bench_figures import OUTPUT, describe, figure, record, start
from tests.support.paths import BLUEPRINT, ROOT
from tests.support.stack import ENV_FILE
from vss.bootstrap.stage_worker import for_stage_worker
from vss.bootstrap.tts_worker import for_tts_worker
from vss.config import get_settings, load_local_env
from vss.deps import Deps
from vss.domain.files import FileRecord
from vss.domain.messages import SegmentMessage, StageMessage
from vss.domain.tasks import Task, TaskStatus
from vss.edge.client import EdgeClient
from vss.ports import FileRepository, Message, Publisher, QueueBacklog, TaskRepository
from vss.service.auth import Credentials, create_tenant
from vss.service.segments import run_segment
from vss.service.stages import run_stage
from vss.service.storage import location
from vss.service.tasks import CreateTask, create_task
from vss.service.uploads import check_landed_object, store_upload

FUNCTIONS = ("api", "on_upload", "stage_worker", "deadline", "dead_letter")
IMPORT_RUNS = 3
POLLS = 500
POLL_CLIENTS = 16
TASK_TIMEOUT = 180.0
LEASE_THREAD = "lease-"  # name prefix of the heartbeat threads (vss.service.leased)


@dataclass(frozen=True)
class Sizes:
    """How much the benchmark does: the function modules imported and fresh processes per
    module, status polls and their clients, and the narrations' target minutes (None: the
    service's default)."""

    functions: tuple[str, ...] = FUNCTIONS
    import_runs: int = IMPORT_RUNS
    polls: int = POLLS
    clients: int = POLL_CLIENTS
    minutes: float | None = None


# A small run (the test suite's): one import of the API's module, a few polls, 1-minute
# narrations.
SMOKE = Sizes(functions=("api",), import_runs=1, polls=40, clients=4, minutes=1.0)

Figures = dict[str, dict[str, Any]]

# Runs in a fresh interpreter: only the stdlib is imported before the clock starts. Its peak
# memory is its own (bench_figures.peak_rss_mib: getrusage would report this benchmark's peak,
# which Linux carries into the processes it starts), read once the clock has stopped.
_COLD_IMPORT = """\
import json, runpy, sys, time
started = time.perf_counter()
runpy.run_path(sys.argv[1], run_name="main")
seconds = time.perf_counter() - started
sys.path.insert(0, sys.argv[2])
from tests.support.bench_figures import peak_rss_mib
print("BENCH " + json.dumps({"seconds": seconds, "rss_mib": peak_rss_mib()}), flush=True)
"""


# ---------------------------------------------------------------- 1. cold import of functions

def _cold_import_once(name: str) -> dict[str, float]:
    main = ROOT / "functions" / name / "main.py"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _COLD_IMPORT, str(main), str(ROOT)], cwd=main.parent,
        env=os.environ.copy(), capture_output=True, text=True, timeout=120, check=False,
    )
    process = time.perf_counter() - started
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"importing {main} failed:\n{done.stderr[-2000:]}")
    measured = json.loads(lines[-1][len("BENCH "):])
    return {"seconds": measured["seconds"], "rss_mib": measured["rss_mib"],
            "process_seconds": process}


def cold_imports(functions: Sequence[str] = FUNCTIONS, runs: int = IMPORT_RUNS
                 ) -> tuple[list[dict[str, Any]], Figures]:
    """Median over `runs` fresh processes of each function module's import: the rows of the
    table, and their figures (each taken as its function's runs end)."""
    rows: list[dict[str, Any]] = []
    figures: Figures = {}
    for name in functions:
        measured = [_cold_import_once(name) for _ in range(runs)]
        medians = {key: round(statistics.median(r[key] for r in measured), 3)
                   for key in ("seconds", "rss_mib", "process_seconds")}
        rows.append({"function": name, "runs": runs, **medians})
        figures[f"run.cold_import_seconds_{name}"] = figure(medians["seconds"], "s", runs=runs)
        figures[f"run.cold_import_process_seconds_{name}"] = figure(
            medians["process_seconds"], "s", runs=runs)
        figures[f"run.cold_import_peak_rss_mib_{name}"] = figure(
            round(medians["rss_mib"], 1), "MiB", runs=runs)
    return rows, figures


# ---------------------------------------------------------------- 2. API status-poll latency

def narration_payload(blueprint_path: str, minutes: float | None) -> dict[str, Any]:
    """A narration of the blueprint: the service's default length, or `minutes`."""
    payload: dict[str, Any] = {"blueprint_path": blueprint_path}
    if minutes is not None:
        payload["service_params"] = {"control_params": {"target_duration_minutes": minutes}}
    return payload


def narration_over_api(base_url: str, creds: Credentials, minutes: float | None = None) -> str:
    """Upload the blueprint, run a narration task through the stack; return its id."""
    edge = EdgeClient(base_url, creds.instance_id, creds.api_key)
    rel = edge.upload(BLUEPRINT)["relative_path"]
    task = edge.create_task("GENERATE_NARRATION", narration_payload(rel, minutes))
    done = edge.wait(task["id"], timeout=TASK_TIMEOUT)
    if done["status"] != "COMPLETED":
        raise RuntimeError(f"narration over the API ended {done['status']}: {done['error']}")
    return str(task["id"])


def _percentile(sorted_values: list[float], pct: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def poll_latency(base_url: str, creds: Credentials, task_id: str, polls: int = POLLS,
                 clients: int = POLL_CLIENTS) -> tuple[dict[str, Any], Figures]:
    """`polls` x `GET /tasks/<id>/` from `clients` threads, one session per thread: the
    figures as printed, and named."""
    url = f"{base_url.rstrip('/')}/api/v1/tasks/{task_id}/"
    headers = {"X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key}
    local = threading.local()

    def poll(_: int) -> tuple[float, int]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers.update(headers)
        started = time.perf_counter()
        status = local.session.get(url, timeout=30).status_code
        return time.perf_counter() - started, status

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(poll, range(polls)))
    wall = time.perf_counter() - started
    latencies = sorted(seconds * 1000 for seconds, _ in results)
    measured = {
        "requests": polls, "clients": clients,
        "non_200": sum(1 for _, status in results if status != 200),
        "p50_ms": round(_percentile(latencies, 50), 1),
        "p99_ms": round(_percentile(latencies, 99), 1),
        "max_ms": round(latencies[-1], 1),
        "wall_seconds": round(wall, 2), "requests_per_second": round(polls / wall, 1),
    }
    context = {"requests": polls, "clients": clients, "non_200": measured["non_200"]}
    figures = {f"run.status_poll_{key}": figure(measured[key], "ms", **context)
               for key in ("p50_ms", "p99_ms", "max_ms")}
    figures["run.status_poll_requests_per_second"] = figure(
        measured["requests_per_second"], "req/s", wall_seconds=measured["wall_seconds"],
        **context)
    return measured, figures


# ---------------------------------------------------------------- 3. counting adapters

class Tally:
    """Thread-safe counters (the lease heartbeat updates from its own thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def bump(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def take(self) -> Counter[str]:
        """The counts so far, resetting them."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        return counts


class CountingTasks:
    def __init__(self, inner: TaskRepository, tally: Tally) -> None:
        self._inner = inner
        self._tally = tally

    def add(self, task: Task) -> bool:
        self._tally.bump("tasks.add")
        return self._inner.add(task)

    def get(self, task_id: str) -> Task | None:
        return self._inner.get(task_id)

    def update(
        self, task_id: str, change: Callable[[Task], Task]
    ) -> tuple[Task, Task]:
        heartbeat = threading.current_thread().name.startswith(LEASE_THREAD)
        self._tally.bump("tasks.update.heartbeat" if heartbeat else "tasks.update")
        before, after = self._inner.update(task_id, change)
        if after is before:  # the repository skips the write when nothing changed
            self._tally.bump("tasks.update.unchanged")
        return before, after

    def update_if_unchanged(self, task_id: str, change: Callable[[Task], Task]) -> bool:
        # A note without a transaction (a fan-out's progress): a write only when it is made.
        written = self._inner.update_if_unchanged(task_id, change)
        self._tally.bump("tasks.note" if written else "tasks.note.skipped")
        return written

    def list_for_tenant(
        self, tenant_id: str, *, limit: int, after: str | None
    ) -> tuple[list[Task], str | None]:
        return self._inner.list_for_tenant(tenant_id, limit=limit, after=after)

    def waiting_on(self, file_id: str) -> list[Task]:
        return self._inner.waiting_on(file_id)

    def list_all(self, **query: Any) -> tuple[list[Task], str | None]:
        return self._inner.list_all(**query)

    def latest_failures(self, *, code: int, limit: int) -> list[Task]:
        return self._inner.latest_failures(code=code, limit=limit)

    # The quota checks' reads (counts, not writes).
    def count_active(self, tenant_id: str) -> int:
        return self._inner.count_active(tenant_id)

    def count_created_after(self, tenant_id: str, after: datetime) -> int:
        return self._inner.count_created_after(tenant_id, after)

    def oldest_created_after(self, tenant_id: str, after: datetime) -> datetime | None:
        return self._inner.oldest_created_after(tenant_id, after)


class CountingFiles:
    def __init__(self, inner: FileRepository, tally: Tally) -> None:
        self._inner = inner
        self._tally = tally

    def add(self, record: FileRecord) -> None:
        self._tally.bump("files.add")
        self._inner.add(record)

    def get(self, file_id: str) -> FileRecord | None:
        return self._inner.get(file_id)

    def update(self, file_id: str, change: Callable[[FileRecord], FileRecord], *,
               missing: FileRecord | None = None) -> FileRecord:
        self._tally.bump("files.update")
        return self._inner.update(file_id, change, missing=missing)


class CountingPublisher:
    """Counts and keeps every message; forwards to the real topic only when `forward`."""

    def __init__(self, inner: Publisher, tally: Tally, *, forward: bool = False) -> None:
        self._inner = inner
        self._tally = tally
        self._forward = forward
        self.outbox: deque[tuple[str, bytes]] = deque()

    def publish(self, topic: str, data: bytes, **attributes: str) -> str:
        self._tally.bump("pubsub.publish")
        self.outbox.append((topic, data))
        if self._forward:
            return self._inner.publish(topic, data, **attributes)
        return f"bench-{len(self.outbox)}"

    def publish_all(self, topic: str, messages: Sequence[Message]) -> list[str]:
        return [self.publish(topic, data, **attributes) for data, attributes in messages]


class CountingDeadlines:
    def __init__(self, tally: Tally) -> None:
        self._tally = tally

    def schedule(self, task_id: str, at: datetime) -> None:
        # Counted, not sent: the check is also the task's watchdog, which would publish the
        # in-process task's work to the stack's real workers.
        self._tally.bump("cloudtasks.create")

    def backlog(self) -> QueueBacklog:
        return QueueBacklog(queue="bench", unavailable="counted, not sent")


# ---------------------------------------------------------------- 3. per-task counts

@dataclass
class TaskRow:
    kind: str
    key: str  # the kind in the figures' names
    counts: dict[str, int]
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    output_file_path: str | None = None

    @property
    def firestore_writes(self) -> int:
        return sum(n for key, n in self.counts.items()
                   if key.startswith(("tasks.", "files."))
                   and key not in ("tasks.update.unchanged", "tasks.note.skipped"))

    def figures(self, stage_lease_seconds: float) -> Figures:
        """This task's named figures: its counts, its time and each stage's."""
        prefix = f"run.{self.key}"
        figures = {
            f"{prefix}.firestore_writes": figure(self.firestore_writes, "writes"),
            f"{prefix}.lease_heartbeat_writes": figure(
                self.counts.get("tasks.update.heartbeat", 0), "writes",
                stage_lease_seconds=stage_lease_seconds),
            f"{prefix}.pubsub_messages": figure(self.counts.get("pubsub.publish", 0),
                                                "messages"),
            f"{prefix}.cloud_tasks": figure(self.counts.get("cloudtasks.create", 0), "tasks"),
            f"{prefix}.seconds": figure(round(self.seconds, 3), "s"),
        }
        for stage, seconds in self.stage_seconds.items():
            figures[f"{prefix}.stage_seconds_{stage}"] = figure(seconds, "s")
        return figures


def counting_deps(deps: Deps, tally: Tally) -> tuple[Deps, CountingPublisher]:
    publisher = CountingPublisher(deps.publisher, tally, forward=False)
    counted = replace(
        deps, tasks=CountingTasks(deps.tasks, tally), files=CountingFiles(deps.files, tally),
        publisher=publisher, deadlines=CountingDeadlines(tally),
    )
    return counted, publisher


def upload_in_process(deps: Deps, tally: Tally, tenant_id: str) -> tuple[str, TaskRow]:
    """store_upload + the on_upload check of the blueprint; (relative path, counts)."""
    started = time.perf_counter()
    stored = store_upload(deps, tenant_id, BLUEPRINT.name, BLUEPRINT.read_bytes())
    bucket, blob = location(deps, tenant_id, stored.relative_path)
    assert stored.generation is not None
    check_landed_object(deps, bucket, blob, stored.generation)
    row = TaskRow("upload (dataset)", "upload", dict(tally.take()),
                  time.perf_counter() - started)
    return stored.relative_path, row


def _drain_stages(deps: Deps, outbox: deque[tuple[str, bytes]]) -> dict[str, float]:
    """Run every published stage and segment message in-process, as the workers would."""
    timings: dict[str, float] = {}
    while outbox:
        topic, data = outbox.popleft()
        started = time.perf_counter()
        if topic == deps.settings.stages_topic:
            message = StageMessage.model_validate_json(data)
            run_stage(deps, message)
            key = message.stage.value
        elif topic == deps.settings.segments_topic:
            run_segment(deps, SegmentMessage.model_validate_json(data))
            key = "segments"
        else:
            continue
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - started
    return timings


def task_in_process(
    deps: Deps, tally: Tally, outbox: deque[tuple[str, bytes]], tenant_id: str,
    task_type: str, key: str, payload: dict[str, Any],
) -> TaskRow:
    started = time.perf_counter()
    task = create_task(deps, tenant_id, CreateTask(task_type=task_type, payload=payload))
    stage_seconds = _drain_stages(deps, outbox)
    seconds = time.perf_counter() - started
    done = deps.tasks.get(task.id)
    if done is None or done.status != TaskStatus.COMPLETED or done.main_result is None:
        status = done.status if done else "missing"
        error = done.error if done else None
        raise RuntimeError(f"{task_type} ended {status}: {error}")
    return TaskRow(task_type, key, dict(tally.take()), seconds,
                   {k: round(v, 3) for k, v in stage_seconds.items()},
                   done.main_result.output_file_path)


def per_task_counts(deps: Deps, tenant_id: str, minutes: float | None = None
                    ) -> tuple[list[TaskRow], Figures]:
    """A dataset upload, then a narration, its dubbing and its editing script, in process:
    their rows, and their figures (each task's taken as it ends)."""
    tally = Tally()
    counted, publisher = counting_deps(deps, tally)
    lease = deps.settings.stage_lease_seconds
    blueprint, upload = upload_in_process(counted, tally, tenant_id)
    figures = upload.figures(lease)
    run = partial(task_in_process, counted, tally, publisher.outbox, tenant_id)
    narration = run("GENERATE_NARRATION", "narration", narration_payload(blueprint, minutes))
    figures.update(narration.figures(lease))
    dubbing = run("GENERATE_DUBBING", "dubbing",
                  {"input_narration_path": narration.output_file_path})
    figures.update(dubbing.figures(lease))
    editing = run("GENERATE_EDITING_SCRIPT", "editing",
                  {"dubbing_script_path": dubbing.output_file_path,
                   "blueprint_path": blueprint})
    figures.update(editing.figures(lease))
    rows = [upload, narration, dubbing, editing]
    figures["run.unchanged_updates"] = figure(
        sum(row.counts.get("tasks.update.unchanged", 0) for row in rows), "updates")
    return rows, figures


# ---------------------------------------------------------------- report

def _table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(cold_import: list[dict[str, Any]], poll: dict[str, Any], per_task: list[TaskRow],
           stage_lease_seconds: float) -> str:
    runs = cold_import[0]["runs"]
    cold = _table(
        ("function", "import s", "peak RSS MiB", "process s"),
        ((r["function"], f"{r['seconds']:.3f}", f"{r['rss_mib']:.1f}",
          f"{r['process_seconds']:.3f}") for r in cold_import))
    tasks = _table(
        ("task type", "FS writes", "of which lease", "Pub/Sub msgs", "Cloud Tasks",
         "stage s", "total s"),
        ((t.kind, t.firestore_writes, t.counts.get("tasks.update.heartbeat", 0),
          t.counts.get("pubsub.publish", 0), t.counts.get("cloudtasks.create", 0),
          " ".join(f"{v:.2f}" for v in t.stage_seconds.values()) or "-", f"{t.seconds:.2f}")
         for t in per_task))
    unchanged = sum(t.counts.get("tasks.update.unchanged", 0) for t in per_task)
    return "\n".join([
        f"1. Cold import of each function module (median of {runs} fresh processes)",
        cold, "   process s = whole subprocess incl. interpreter start-up; peak RSS = the "
        "fresh process's own", "",
        f"2. API status poll: {poll['requests']} x GET /api/v1/tasks/<id>/ from "
        f"{poll['clients']} clients",
        f"   p50 {poll['p50_ms']} ms   p99 {poll['p99_ms']} ms   max {poll['max_ms']} ms   "
        f"{poll['requests_per_second']} req/s ({poll['wall_seconds']} s, "
        f"non-200: {poll['non_200']})", "",
        "3. Per task, in-process through the service layer (emulator-backed adapters)",
        tasks,
        "   FS writes = add + update transaction commits (1 doc each); lease = heartbeat "
        f"renewals (stage lease {stage_lease_seconds:g} s);\n"
        f"   updates that changed nothing (commit without a write): {unchanged}",
    ])


def measure(sizes: Sizes, output: Path) -> None:
    """Every measurement, printed and recorded in `output` as each part ends."""
    load_local_env(ENV_FILE)
    base_url = os.environ["VSS_API_URL"]
    cold_import, figures = cold_imports(sizes.functions, sizes.import_runs)
    record(figures, output)
    settings = get_settings()
    deps = for_tts_worker(settings, for_stage_worker(settings))
    creds = create_tenant(deps, "bench")
    task_id = narration_over_api(base_url, creds, sizes.minutes)
    poll, measured = poll_latency(base_url, creds, task_id, sizes.polls, sizes.clients)
    figures.update(measured)
    record(measured, output)
    per_task, measured = per_task_counts(deps, creds.tenant_id, sizes.minutes)
    figures.update(measured)
    record(measured, output)
    print(report(cold_import, poll, per_task, deps.settings.stage_lease_seconds))
    print()
    for name, value in figures.items():
        print(describe(name, value))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="a small run (the test suite's): one import of the api module, "
                             "40 polls from 4 clients, 1-minute narrations")
    parser.add_argument("--functions", nargs="+", choices=FUNCTIONS,
                        help="the function modules imported (default: all)")
    parser.add_argument("--import-runs", type=int,
                        help=f"fresh processes per function module (default: {IMPORT_RUNS})")
    parser.add_argument("--polls", type=int, help=f"status polls (default: {POLLS})")
    parser.add_argument("--clients", type=int,
                        help=f"threads polling at once (default: {POLL_CLIENTS})")
    parser.add_argument("--minutes", type=float,
                        help="the narrations' target minutes (default: the service's)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file, started afresh: the benchmarks after this one "
                             "add to it (default: build/bench.json)")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else Sizes()
    chosen = {key: getattr(args, key) for key in ("import_runs", "polls", "clients", "minutes")
              if getattr(args, key) is not None}
    if args.functions:
        chosen["functions"] = tuple(dict.fromkeys(args.functions))
    sizes = replace(sizes, **chosen)
    if min(sizes.import_runs, sizes.polls, sizes.clients) < 1:
        parser.error("--import-runs, --polls and --clients must be 1 or more")
    # First in `make bench`: a new file, which the benchmarks after this one add to.
    start(args.output)
    measure(sizes, args.output)
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
