"""Named figures in build/bench.json, each with the machine's load average beside it.

`make bench` runs `tests.bench.run` first, which writes build/bench.json afresh; a benchmark
after it adds its figures to the same file under their names (`editing.seconds_10000`), so
one file holds a run's figures. A figure is measured on a shared machine: its load average
(1, 5 and 15 minutes) and core count are recorded with it, and when it was taken.
"""

from __future__ import annotations

import json
import os
import resource
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT

OUTPUT = ROOT / "build" / "bench.json"


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def figure(value: float, unit: str, **context: Any) -> dict[str, Any]:
    """One measured value, with the load it was measured under (read now: call it as soon as
    the measurement ends) and any `context` that helps read it (`cpu_seconds=...`)."""
    return {"value": value, "unit": unit, **context, "load_average": load_average(),
            "cores": os.cpu_count(),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds")}


def start(path: Path = OUTPUT) -> None:
    """A new, empty bench file: what the first benchmark of `make bench` (tests.bench.run)
    does, so figures of an earlier run never mix with this run's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}\n")


def record(figures: Mapping[str, dict[str, Any]], path: Path = OUTPUT) -> None:
    """Add (or replace) named figures in the bench file, keeping whatever else it holds."""
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.update(figures)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(existing, indent=2, ensure_ascii=False) + "\n")


def describe(name: str, measured: Mapping[str, Any]) -> str:
    """One line for a named figure, as a benchmark prints it after its table: the value, the
    CPU time beside it if it has one, and the load it was measured under."""
    cpu = f", {measured['cpu_seconds']} s of CPU" if "cpu_seconds" in measured else ""
    load = ", ".join(f"{x:.2f}" for x in measured["load_average"])
    return (f"{name} = {measured['value']} {measured['unit']}{cpu} (load average {load} on "
            f"{measured['cores']} cores)")


def peak_rss_mib() -> float:
    """This process's peak resident memory, or its children's if one of them (waited for)
    peaked higher, in MiB.

    Not getrusage(RUSAGE_SELF) alone: Linux carries a process's peak across the exec that
    started it, so a process a benchmark starts would report the benchmark's own peak when
    that is higher than its own. VmHWM is the peak of this process's memory alone. A child's
    getrusage peak starts from this process's at the child's start, so it adds only a child
    that outgrew this process."""
    try:
        status = Path("/proc/self/status").read_text()
        own_kib = next(int(line.split()[1]) for line in status.splitlines()
                       if line.startswith("VmHWM:"))
    except (OSError, StopIteration):  # not Linux: the peak as getrusage tells it
        own_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(own_kib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
