"""Starting and stopping components: pid files, logs, process groups and waiting for health.

Every component runs in its own session, so its pid is also its process group and stopping it
stops whatever it spawned. A pid file records the pid with its kernel start time: a pid that now
belongs to another process (a stale file after a reboot) is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from emulators.components import Component
from emulators.config import LOG_DIR, PID_DIR, REPO, StackError
from emulators.probes import port_open
from emulators.topology import HOST

STOP_GRACE_S = 5.0
LOG_TAIL_LINES = 20


def pid_file(name: str) -> Path:
    return PID_DIR / f"{name}.pid"


def log_file(name: str) -> Path:
    return LOG_DIR / f"{name}.log"


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state, ppid, pgrp, ...), or None if there is no such pid."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw[raw.rindex(")") + 2 :].split()


def start_time(pid: int) -> str | None:
    fields = _proc_stat(pid)
    return fields[19] if fields else None


def group_alive(pgid: int) -> bool:
    # Zombies count as gone: nobody may reap our orphans, and a zombie serves nothing.
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(int(entry.name))
        if fields and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


@dataclass(frozen=True)
class PidRecord:
    """A pid file: the group leader's pid, its kernel start time and the port it serves."""

    pid: int
    started: str
    port: int | None

    def render(self) -> str:
        return f"{self.pid}\n{self.started}\n{self.port or ''}\n"


def read_pid_record(name: str) -> PidRecord | None:
    try:
        pid_text, started, port_text, *_ = [*pid_file(name).read_text().splitlines(), "", ""]
        return PidRecord(int(pid_text), started, int(port_text) if port_text else None)
    except (FileNotFoundError, ValueError):
        return None


def running_record(name: str) -> PidRecord | None:
    """The record of the process group we started for `name`, if any member of it still runs."""
    record = read_pid_record(name)
    if record is None:
        return None
    current = start_time(record.pid)
    if current is not None and current != record.started:
        return None  # the pid now belongs to a process we did not start
    return record if group_alive(record.pid) else None


def running_pid(name: str) -> int | None:
    record = running_record(name)
    return record.pid if record else None


def start_process(component: Component, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log_path = log_file(component.name)
    with log_path.open("ab") as log:
        log.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} {component.name} ===\n".encode())
        log.flush()
        process = subprocess.Popen(
            component.command,
            cwd=REPO,
            env={**env, **component.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    record = PidRecord(process.pid, start_time(process.pid) or "", component.port)
    pid_file(component.name).write_text(record.render())
    return process


def stop_groups(pids: dict[str, int]) -> None:
    """SIGTERM to each process group, SIGKILL to those still running after STOP_GRACE_S."""
    for pid in pids.values():
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and any(group_alive(pid) for pid in pids.values()):
        time.sleep(0.1)
    for name, pid in pids.items():
        if group_alive(pid):
            print(f"{name}: still running after {STOP_GRACE_S:.0f} s, sending SIGKILL")
            _signal_group(pid, signal.SIGKILL)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def log_tail(name: str) -> str:
    try:
        lines = log_file(name).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(lines[-LOG_TAIL_LINES:])


class Launcher:
    """Starts components that are not already running and waits for them to be healthy."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def ensure(self, wanted: Iterable[Component]) -> None:
        for component in wanted:
            if running_pid(component.name) is not None:
                print(f"{component.name}: already running, kept")
                continue
            pid_file(component.name).unlink(missing_ok=True)
            if port_open(component.port):
                raise StackError(
                    f"{component.name}: port {component.port} is taken by a process this stack "
                    "did not start (stop it, or set VSS_PORT_OFFSET)"
                )
            self.started[component.name] = start_process(component, self.env)
            print(f"{component.name}: started on {HOST}:{component.port}")

    def wait_healthy(self, wanted: Iterable[Component], timeout: float) -> None:
        pending = list(wanted)
        deadline = time.monotonic() + timeout
        while pending:
            pending = [c for c in pending if not c.probe()]
            for component in pending:
                self._check_alive(component)
            if pending and time.monotonic() > deadline:
                name = pending[0].name
                raise StackError(f"{name}: not healthy after {timeout:.0f} s\n{log_tail(name)}")
            if pending:
                time.sleep(0.2)

    def _check_alive(self, component: Component) -> None:
        process = self.started.get(component.name)
        exited = process.poll() is not None if process else running_pid(component.name) is None
        if exited:
            raise StackError(f"{component.name}: exited during startup\n{log_tail(component.name)}")
