"""Dubbing fan-out on the local stack, profiled: N segments, a fake Cloud TTS answering after a
fixed latency L, the TTS worker serving C requests at once (VSS_TTS_CONCURRENCY; the push relay
pushes as many). For each run it prints the segments phase against the ideal ⌈N/C⌉·L, and
where the time goes, read from what the run leaves behind rather than from timers in the code:

- each segment's claim and finish (`claimed_at`, `finished_at` on its document);
- each synthesis request's arrival and answer (the fake records them);
- the fan-out and the fan-in (`waiting` and `queued` on the task's timeline);
- writes that had to run again, transactions and compare-and-set changes (the workers log
  each one) and redeliveries (the relay's nacks).

Per segment the slot's time splits into: before synthesis (claim committed → TTS request:
reading the task, building the request), synthesis (the fake's L), after synthesis (answer →
finish committed: post-processing, upload, the fencing check) and between segments (finish →
the slot's next claim: the fan-in count, the ack, the next push, the claim's transaction).
What the emulators themselves charge for one transaction and one count is measured beside it.
Each case restarts the worker and warms it with one fan-out of C segments first (its
efficiency is kept beside the figure as `warming_fan_out_efficiency`).

    python -m tests.bench.fan_out            # N=60 at C=4 and C=16, N=200 at C=64, 3 runs each
    python -m tests.bench.fan_out --smoke    # N=8 at C=4, L=0.2 s (make test runs this)

Run with the stack up. Figures go to build/bench.json (`fan_out.efficiency_c4`, ...).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from tests.support.bench_figures import OUTPUT, figure, record
from tests.support.fake_tts import FakeTts, TtsCall
from tests.support.stack import ENV_FILE, cpu_seconds, log_file, new_tenant, stack_settings
from tests.support.tts_stack import tts_worker_speaking_through
from vss.bootstrap import ports_alone
from vss.config import load_local_env
from vss.deps import Deps
from vss.domain.segments import Segment
from vss.domain.tasks import Stage, StageEventKind, Task


@dataclass(frozen=True)
class Run:
    segments: int
    concurrency: int
    latency_s: float


FULL = (Run(60, 4, 1.0), Run(60, 16, 1.0), Run(200, 64, 1.0))
SMOKE = (Run(8, 4, 0.2),)
# Runs of each full case: one run's efficiency moved by ±0.03 on a quiet machine, and more
# under load; the median run is kept (the smoke case runs once).
REPEATS = 3


def narration_script(segments: int) -> bytes:
    # Short lines: about half a second of speech each, so that post-processing (measured on
    # its own by tests.bench.dubbing) stays small beside L and the run measures orchestration.
    lines = [{"narration": f"第{i + 1}段。", "source_scene_ids": [i % 60 + 1]}
             for i in range(segments)]
    return json.dumps({"narration_script": lines}, ensure_ascii=False).encode()


def _relay_counters() -> dict[str, int]:
    url = load_local_env(ENV_FILE)["VSS_PUSH_RELAY_URL"]
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)["vss-segments-push"]


def _event_at(task: Task, kind: StageEventKind) -> datetime:
    return next(e.at for e in task.timeline
                if e.stage == Stage.DUBBING_ASSEMBLY and e.kind == kind)


def _retries(task_id: str) -> int:
    """Write attempts on this task's documents beyond the first, as the workers log them
    ("transaction on task <id> ran 3 times", "change of segment 4 of task <id> took 2
    rounds")."""
    ran = re.compile(rf"(?:transaction on|change of) [^\"]*{task_id}[^\"]* "
                     rf"(?:ran (\d+) times|took (\d+) rounds)")
    total = 0
    for component in ("tts_worker", "stage_worker"):
        for line in log_file(component).read_text(errors="replace").splitlines():
            if (found := ran.search(line)) is not None:
                total += int(found.group(1) or found.group(2)) - 1
    return total


def _synthesis_of(calls: list[TtsCall]) -> dict[int, TtsCall]:
    """The answered request of each segment, by the segment number its text starts with."""
    found: dict[int, TtsCall] = {}
    for call in calls:
        number = re.search(r"第(\d+)段", call.text)
        if call.status == 200 and number:
            found[int(number.group(1)) - 1] = call
    return found


def profile(deps: Deps, task: Task, segments: list[Segment], calls: list[TtsCall], run: Run
            ) -> dict[str, float]:
    fanned_out = _event_at(task, StageEventKind.WAITING)
    fanned_in = _event_at(task, StageEventKind.QUEUED)
    phase = (fanned_in - fanned_out).total_seconds()
    synthesis = _synthesis_of(calls)
    before, during, after, busy = [], [], [], 0.0
    for segment in segments:
        assert segment.claimed_at and segment.finished_at, segment.index
        claimed, finished = segment.claimed_at.timestamp(), segment.finished_at.timestamp()
        busy += finished - claimed
        call = synthesis[segment.index]
        before.append(call.started - claimed)
        during.append(call.answered - call.started)
        after.append(finished - call.answered)
    last_finish = max(s.finished_at for s in segments if s.finished_at)
    first_claim = min(s.claimed_at for s in segments if s.claimed_at)
    ideal = math.ceil(run.segments / run.concurrency) * run.latency_s
    # Each of the C slots is busy from a claim to its finish; the rest of C × phase is spent
    # between segments (and in the first delivery and the fan-in, counted apart).
    first_delivery = (first_claim - fanned_out).total_seconds()
    fan_in = (fanned_in - last_finish).total_seconds()
    idle = run.concurrency * (phase - first_delivery - fan_in) - busy
    return {
        "phase_s": phase, "ideal_s": ideal, "efficiency": ideal / phase,
        "first_delivery_ms": 1000 * first_delivery, "fan_in_ms": 1000 * fan_in,
        "before_synthesis_ms": 1000 * statistics.mean(before),
        "synthesis_ms": 1000 * statistics.mean(during),
        "after_synthesis_ms": 1000 * statistics.mean(after),
        "between_segments_ms": 1000 * max(0.0, idle) / run.segments,
    }


def emulator_costs(deps: Deps, task: Task, repeats: int = 20) -> dict[str, float]:
    """What one step costs on the emulators, whatever the design: a read-write transaction
    of the task (that changes nothing) and a count of the plan's done segments."""
    assert task.progress is not None
    started = time.perf_counter()
    for _ in range(repeats):
        deps.tasks.update(task.id, lambda t: t)
    transaction = (time.perf_counter() - started) / repeats
    started = time.perf_counter()
    for _ in range(repeats):
        deps.segments.count_done(task.id, task.progress.plan)
    count = (time.perf_counter() - started) / repeats
    return {"transaction_ms": 1000 * transaction, "count_ms": 1000 * count}


def measure_case(run: Run, repeats: int) -> tuple[list[dict[str, float]], float]:
    """`repeats` measured runs of `run` on one restarted TTS worker, after one fan-out of C
    segments that warms it: the worker serves from one process per request at once, as
    production from one instance per request, and a process's first request opens its
    connections (the functions' cold starts are measured apart, by tests.bench.run). Also
    returns the warming fan-out's efficiency."""
    with FakeTts(latency_s=run.latency_s) as fake, \
            tts_worker_speaking_through(fake, VSS_TTS_CONCURRENCY=str(run.concurrency)):
        warming = Run(run.concurrency, run.concurrency, run.latency_s)
        first = measure(warming, fake)["efficiency"]
        return [measure(run, fake) for _ in range(repeats)], first


def measure(run: Run, fake: FakeTts) -> dict[str, float]:
    """One fan-out of `run` through the TTS worker speaking through `fake`."""
    edge, _ = new_tenant()
    deps = ports_alone(stack_settings())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "narration.json"
        path.write_bytes(narration_script(run.segments))
        narration = edge.upload(path)["relative_path"]
    relayed = _relay_counters()
    called = len(fake.calls)
    cpu_before, own_before = cpu_seconds(), _own_cpu_seconds()
    created = edge.create_task("GENERATE_DUBBING", {
        "input_narration_path": narration,
        "service_params": {"template_name": "chinese_chirp3_hd"}})
    # The phase is read from the task's timeline, so the poll interval costs no precision;
    # a faster poll only takes CPU from the stack it measures.
    view = edge.wait(created["id"], timeout=600, interval=1.0)
    assert view["status"] == "COMPLETED", view["error"]
    cpu = _cpu_used(cpu_before, own_before)
    peak = _relay_counters()["peak"]
    redelivered = _relay_counters()["nacked"] - relayed["nacked"]
    calls = list(fake.calls)[called:]
    task = deps.tasks.get(created["id"])
    assert task is not None and task.progress is not None
    segments = deps.segments.list_for_task(task.id, task.progress.plan)
    figures = profile(deps, task, segments, calls, run)
    return {**figures, **emulator_costs(deps, task), "peak_in_flight": peak,
            "redeliveries": redelivered, "transaction_retries": _retries(task.id),
            "cpu_ms_per_segment": 1000 * sum(cpu.values()) / run.segments,
            "cpu_bound_s": sum(cpu.values()) / (os.cpu_count() or 1),
            **{f"cpu_ms_per_segment_{name}": 1000 * used / run.segments
               for name, used in cpu.items()}}


def _own_cpu_seconds() -> float:
    times = psutil.Process().cpu_times()
    return times.user + times.system


def _cpu_used(before: dict[str, float], own_before: float) -> dict[str, float]:
    """CPU seconds each stack process used since `before`, the largest first; `bench` is
    this process (the fake Cloud TTS and the polling edge). Processes that used under 10 ms
    are left out."""
    after = cpu_seconds()
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    used["bench"] = _own_cpu_seconds() - own_before
    return dict(sorted(((n, u) for n, u in used.items() if u >= 0.01), key=lambda i: -i[1]))


def _print(run: Run, f: dict[str, Any]) -> None:
    print(f"fan-out: N={run.segments}, C={run.concurrency}, L={run.latency_s:.1f} s: segments "
          f"phase {f['phase_s']:.2f} s against ideal {f['ideal_s']:.1f} s -> efficiency "
          f"{f['efficiency']:.2f}; {f['peak_in_flight']} in flight at most")
    print(f"  per segment: before synthesis {f['before_synthesis_ms']:.0f} ms, synthesis "
          f"{f['synthesis_ms']:.0f} ms, after {f['after_synthesis_ms']:.0f} ms, between "
          f"segments {f['between_segments_ms']:.0f} ms; first delivery "
          f"{f['first_delivery_ms']:.0f} ms, fan-in {f['fan_in_ms']:.0f} ms")
    cpu = sorted(((k.removeprefix("cpu_ms_per_segment_"), v) for k, v in f.items()
                  if k.startswith("cpu_ms_per_segment_")), key=lambda item: -item[1])
    print(f"  CPU of the whole task: {f['cpu_ms_per_segment']:.0f} ms per segment ("
          + ", ".join(f"{name} {ms:.0f}" for name, ms in cpu[:6])
          + f"); on {os.cpu_count()} cores that alone takes {f['cpu_bound_s']:.2f} s")
    print(f"  transactions run again {f['transaction_retries']}, redeliveries "
          f"{f['redeliveries']}; the emulator: a transaction {f['transaction_ms']:.0f} ms, "
          f"a count {f['count_ms']:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="one small run (make test)")
    parser.add_argument("--concurrency", type=int, nargs="*",
                        help="only the full runs at these concurrencies")
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help="runs of each concurrency; the median's figures are kept")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    load_local_env(ENV_FILE)
    named: dict[str, dict[str, Any]] = {}
    runs = SMOKE if args.smoke else [
        r for r in FULL if not args.concurrency or r.concurrency in args.concurrency]
    repeats = 1 if args.smoke else args.repeats
    for run in runs:
        tries, first = measure_case(run, repeats)
        for measured in tries:
            _print(run, measured)
        # The run of median efficiency, whole: its breakdown explains its figure.
        measured = sorted(tries, key=lambda t: t["efficiency"])[len(tries) // 2]
        efficiencies = [round(t["efficiency"], 3) for t in tries]
        if repeats > 1:
            print(f"  C={run.concurrency}: efficiency {', '.join(map(str, efficiencies))}; "
                  f"the median run's figures are kept")
        prefix = f"fan_out.c{run.concurrency}"
        named[f"fan_out.efficiency_c{run.concurrency}"] = figure(
            round(measured["efficiency"], 3), "ratio", segments=run.segments,
            latency_s=run.latency_s, runs=efficiencies, warming_fan_out_efficiency=round(first, 3),
            **{k: round(v, 3) for k, v in measured.items()})
        if run.concurrency == 64 or args.smoke:
            named[f"{prefix}_retries"] = figure(
                measured["transaction_retries"], "count", redeliveries=measured["redeliveries"],
                runs=[t["transaction_retries"] for t in tries])
            named[f"{prefix}_fan_in_ms"] = figure(
                round(measured["fan_in_ms"], 1), "ms",
                runs=[round(t["fan_in_ms"], 1) for t in tries])
    record(named, args.output)


if __name__ == "__main__":
    main()
