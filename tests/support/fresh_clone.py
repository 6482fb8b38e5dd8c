"""A fresh clone of this repository and `make` run in it, timed line by line: what
tests/bench/demo.py measures `make demo` with. The clone sees nothing of this checkout's
environment, so it has to be self-contained."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import ROOT

# What of this process's environment the clone must not see: this checkout's stack and code,
# and the flags of a `make bench` this runs under.
_DROPPED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")


def phases(lines: Iterable[tuple[float, str]], total: float,
           markers: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Seconds per phase from make's output, each line with the seconds since make started:
    the first phase from the start, each other from the first line holding its marker. A phase
    whose marker never showed (make failed before it) is left out."""
    starts = {markers[0][0]: 0.0}
    for at, line in lines:
        for name, marker in markers[1:]:
            if name not in starts and marker in line:
                starts[name] = at
    ordered = sorted(starts.items(), key=lambda item: item[1])
    ends = [at for _, at in ordered[1:]] + [total]
    return {name: round(end - start, 1) for (name, start), end in zip(ordered, ends, strict=True)}


def clean_env(port_offset: int) -> dict[str, str]:
    """This process's environment without this checkout's stack, code or virtualenv."""
    venv = os.environ.get("VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("VSS_") or k.endswith("_EMULATOR_HOST") or k in _DROPPED)}
    if venv:
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if Path(p).resolve() != (Path(venv) / "bin").resolve())
    env["PYTHONUNBUFFERED"] = "1"  # the phases are timed by when their lines arrive
    if port_offset:
        env["VSS_PORT_OFFSET"] = str(port_offset)
    return env


def busy_ports(port_offset: int) -> list[int]:
    """The stack's ports (moved by the offset) that something already answers on."""
    from emulators.topology import HOST, TOPOLOGY

    def answers(port: int) -> bool:
        try:
            with socket.create_connection((HOST, port), timeout=0.3):
                return True
        except OSError:
            return False

    return [port for port in sorted(p + port_offset for p in TOPOLOGY.base_ports().values())
            if answers(port)]


def _git(*args: str, cwd: Path = ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def clone(ref: str, into: Path) -> str:
    """Clone this repository into `into` at `ref`; its commit."""
    commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}")
    _git("clone", "--quiet", str(ROOT), str(into))
    _git("checkout", "--quiet", "--detach", commit, cwd=into)
    return commit


def package_cache_mib() -> float:
    """The size of the caches a fresh virtualenv installs from: pip's (build.lock) and uv's
    (the other locks); a cache switched off counts 0."""
    off = ("1", "true", "yes", "on")
    total = 0
    uv = Path(sys.executable).parent / "uv"
    for disabled, command in (("PIP_NO_CACHE_DIR", [sys.executable, "-m", "pip", "cache", "dir"]),
                              ("UV_NO_CACHE", [str(uv), "cache", "dir"])):
        if os.environ.get(disabled, "").lower() in off or not Path(command[0]).exists():
            continue
        found = subprocess.run(command, capture_output=True, text=True, check=False)
        folder = Path(found.stdout.strip()) if found.returncode == 0 else None
        if folder is not None and folder.is_dir():
            total += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return round(total / 2**20, 1)


@dataclass(frozen=True)
class MakeRun:
    code: int
    seconds: float
    lines: list[tuple[float, str]]


def run_make(target: str, folder: Path, env: dict[str, str], *, timeout: float,
             echo: bool) -> MakeRun:
    """`make TARGET` in `folder`, each output line timed; stopped (its process group, which
    this started) when it outlasts `timeout`."""
    started = time.monotonic()
    process = subprocess.Popen(["make", target], cwd=folder, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    watchdog = threading.Timer(timeout, os.killpg, (process.pid, signal.SIGTERM))
    watchdog.start()
    lines: list[tuple[float, str]] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append((time.monotonic() - started, line.rstrip("\n")))
            if echo:
                print(line, end="", flush=True)
        code = process.wait()
    finally:
        watchdog.cancel()
    return MakeRun(code, time.monotonic() - started, lines)


def uncommitted() -> bool:
    """Whether this checkout has changes a clone of its HEAD would not have."""
    return bool(_git("status", "--porcelain", "--untracked-files=no"))
