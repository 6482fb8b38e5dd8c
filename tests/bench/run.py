"""Pipeline benchmark against the running local stack (`make bench`): cold start of each
function module, API status-poll latency, and Firestore writes / Pub/Sub messages / Cloud Tasks
per task type. Measures, never asserts. Prints a report and writes the same figures as JSON to
build/bench.json. Run: `python -m tests.bench.run` with the stack up."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import requests

from vss.bootstrap.stage_worker import for_stage_worker
from vss.bootstrap.tts_worker import for_tts_worker
from vss.config import get_settings, load_local_env
from vss.deps import Deps
from vss.domain.files import FileRecord
from vss.domain.messages import SegmentMessage, StageMessage
from vss.domain.tasks import Task, TaskStatus
from vss.edge.client import EdgeClient
from vss.ports import FileRepository, Publisher, QueueBacklog, TaskRepository
from vss.service.auth import Credentials, create_tenant
from vss.service.segments import run_segment
from vss.service.stages import run_stage
from vss.service.storage import location
from vss.service.tasks import CreateTask, create_task
from vss.service.uploads import check_landed_object, store_upload

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = Path(os.environ.get("VSS_STATE_DIR") or ROOT / ".vss") / "local.env"
BLUEPRINT = ROOT / "examples" / "blueprint_contract_girlfriend.json"
OUTPUT = ROOT / "build" / "bench.json"
FUNCTIONS = ("api", "on_upload", "stage_worker", "deadline", "dead_letter")
IMPORT_RUNS = 3
POLLS = 500
POLL_CLIENTS = 16
TASK_TIMEOUT = 180.0
LEASE_THREAD = "lease-"  # name prefix of the heartbeat threads (vss.service.leased)

# Runs in a fresh interpreter: only the stdlib is imported before the clock starts.
_COLD_IMPORT = """\
import json, resource, runpy, sys, time
started = time.perf_counter()
runpy.run_path(sys.argv[1], run_name="main")
seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("BENCH " + json.dumps({"seconds": seconds, "rss_kib": rss}), flush=True)
"""


# ---------------------------------------------------------------- 1. cold import of functions

def _cold_import_once(name: str) -> dict[str, float]:
    main = ROOT / "functions" / name / "main.py"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _COLD_IMPORT, str(main)], cwd=main.parent,
        env=os.environ.copy(), capture_output=True, text=True, timeout=60, check=False,
    )
    process = time.perf_counter() - started
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"importing {main} failed:\n{done.stderr[-2000:]}")
    figures = json.loads(lines[-1][len("BENCH "):])
    return {"seconds": figures["seconds"], "rss_mib": figures["rss_kib"] / 1024,
            "process_seconds": process}


def cold_imports() -> list[dict[str, Any]]:
    """Median over IMPORT_RUNS fresh processes of each function module's import."""
    rows = []
    for name in FUNCTIONS:
        runs = [_cold_import_once(name) for _ in range(IMPORT_RUNS)]
        rows.append({"function": name, "runs": IMPORT_RUNS, **{
            key: round(statistics.median(r[key] for r in runs), 3)
            for key in ("seconds", "rss_mib", "process_seconds")
        }})
    return rows


# ---------------------------------------------------------------- 2. API status-poll latency

def narration_over_api(base_url: str, creds: Credentials) -> str:
    """Upload the blueprint, run a narration task through the stack; return its id."""
    edge = EdgeClient(base_url, creds.instance_id, creds.api_key)
    rel = edge.upload(BLUEPRINT)["relative_path"]
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": rel})
    done = edge.wait(task["id"], timeout=TASK_TIMEOUT)
    if done["status"] != "COMPLETED":
        raise RuntimeError(f"narration over the API ended {done['status']}: {done['error']}")
    return str(task["id"])


def _percentile(sorted_values: list[float], pct: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def poll_latency(base_url: str, creds: Credentials, task_id: str) -> dict[str, Any]:
    """POLLS `GET /tasks/<id>/` from POLL_CLIENTS threads, one session per thread."""
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
    with ThreadPoolExecutor(max_workers=POLL_CLIENTS) as pool:
        results = list(pool.map(poll, range(POLLS)))
    wall = time.perf_counter() - started
    latencies = sorted(seconds * 1000 for seconds, _ in results)
    return {
        "requests": POLLS, "clients": POLL_CLIENTS,
        "non_200": sum(1 for _, status in results if status != 200),
        "p50_ms": round(_percentile(latencies, 50), 1),
        "p99_ms": round(_percentile(latencies, 99), 1),
        "max_ms": round(latencies[-1], 1),
        "wall_seconds": round(wall, 2), "requests_per_second": round(POLLS / wall, 1),
    }


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
    counts: dict[str, int]
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    output_file_path: str | None = None

    @property
    def firestore_writes(self) -> int:
        return sum(n for key, n in self.counts.items()
                   if key.startswith(("tasks.", "files."))
                   and key not in ("tasks.update.unchanged", "tasks.note.skipped"))


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
    record = store_upload(deps, tenant_id, BLUEPRINT.name, BLUEPRINT.read_bytes())
    bucket, blob = location(deps, tenant_id, record.relative_path)
    assert record.generation is not None
    check_landed_object(deps, bucket, blob, record.generation)
    row = TaskRow("upload (dataset)", dict(tally.take()), time.perf_counter() - started)
    return record.relative_path, row


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
    task_type: str, payload: dict[str, Any],
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
    return TaskRow(task_type, dict(tally.take()), seconds,
                   {k: round(v, 3) for k, v in stage_seconds.items()},
                   done.main_result.output_file_path)


def per_task_counts(deps: Deps, tenant_id: str) -> list[TaskRow]:
    tally = Tally()
    counted, publisher = counting_deps(deps, tally)
    blueprint, upload = upload_in_process(counted, tally, tenant_id)
    run = partial(task_in_process, counted, tally, publisher.outbox, tenant_id)
    narration = run("GENERATE_NARRATION", {"blueprint_path": blueprint})
    dubbing = run("GENERATE_DUBBING", {"input_narration_path": narration.output_file_path})
    editing = run("GENERATE_EDITING_SCRIPT", {"dubbing_script_path": dubbing.output_file_path,
                                              "blueprint_path": blueprint})
    return [upload, narration, dubbing, editing]


# ---------------------------------------------------------------- report

def _table(headers: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _task_json(row: TaskRow) -> dict[str, Any]:
    data = asdict(row)
    data.update(
        firestore_writes=row.firestore_writes,
        lease_heartbeat_writes=row.counts.get("tasks.update.heartbeat", 0),
        pubsub_messages=row.counts.get("pubsub.publish", 0),
        cloud_tasks_created=row.counts.get("cloudtasks.create", 0),
        seconds=round(row.seconds, 3),
    )
    return data


def report(figures: dict[str, Any]) -> str:
    cold = _table(
        ("function", "import s", "peak RSS MiB", "process s"),
        ((r["function"], f"{r['seconds']:.3f}", f"{r['rss_mib']:.1f}",
          f"{r['process_seconds']:.3f}") for r in figures["cold_import"]))
    poll = figures["status_poll"]
    tasks = _table(
        ("task type", "FS writes", "of which lease", "Pub/Sub msgs", "Cloud Tasks",
         "stage s", "total s"),
        ((t["kind"], t["firestore_writes"], t["lease_heartbeat_writes"], t["pubsub_messages"],
          t["cloud_tasks_created"], " ".join(f"{v:.2f}" for v in t["stage_seconds"].values())
          or "-", f"{t['seconds']:.2f}") for t in figures["per_task"]))
    unchanged = sum(t["counts"].get("tasks.update.unchanged", 0) for t in figures["per_task"])
    return "\n".join([
        f"1. Cold import of each function module (median of {IMPORT_RUNS} fresh processes)",
        cold, "   process s = whole subprocess incl. interpreter start-up", "",
        f"2. API status poll: {poll['requests']} x GET /api/v1/tasks/<id>/ from "
        f"{poll['clients']} clients",
        f"   p50 {poll['p50_ms']} ms   p99 {poll['p99_ms']} ms   max {poll['max_ms']} ms   "
        f"{poll['requests_per_second']} req/s ({poll['wall_seconds']} s, "
        f"non-200: {poll['non_200']})", "",
        "3. Per task, in-process through the service layer (emulator-backed adapters)",
        tasks,
        "   FS writes = add + update transaction commits (1 doc each); lease = heartbeat "
        f"renewals;\n   updates that changed nothing (commit without a write): {unchanged}",
    ])


def main() -> None:
    load_local_env(ENV_FILE)
    base_url = os.environ["VSS_API_URL"]
    figures: dict[str, Any] = {"cold_import": cold_imports()}
    settings = get_settings()
    deps = for_tts_worker(settings, for_stage_worker(settings))
    creds = create_tenant(deps, "bench")
    task_id = narration_over_api(base_url, creds)
    figures["status_poll"] = poll_latency(base_url, creds, task_id)
    figures["per_task"] = [_task_json(row) for row in per_task_counts(deps, creds.tenant_id)]
    figures["stage_lease_seconds"] = deps.settings.stage_lease_seconds
    print(report(figures))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nfigures written to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
