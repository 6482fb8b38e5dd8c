"""A fresh `make demo`, timed from a fresh clone: the named figure `demo.fresh_seconds`.

What is measured: the wall time of `make demo` run in a fresh `git clone` of this repository
(at this checkout's HEAD commit: uncommitted changes are not in it), from make's start to its
exit, in an environment stripped of this checkout's (no VSS_* or *_EMULATOR_HOST variable, no
PYTHONPATH, no active virtualenv): the clone must be self-contained. That covers what a
developer's new clone costs:

- `make deb`: the check for the Debian packages (on a prepared machine, only a check);
- the clone's own virtualenv (`python3 -m venv .venv`, pip installs `build.lock` with uv,
  then uv the `stack` lock, the project and the Cloud Tasks emulator). The Makefile leaves pip's
  and uv's caches on, so once any checkout on the machine installed these pins, the wheels
  (the Kokoro model's among them) come from the caches: the figure is a clone's cost on a
  machine that has built the project before, not a first download. The caches' size is
  recorded beside the figure; run with PIP_NO_CACHE_DIR=1 UV_NO_CACHE=1 to measure a cold
  install instead;
- `make up`: the local stack (emulators, bridge, functions) started with its state in the
  clone's `.vss/`;
- scripts/demo.py: a new demo tenant, `vss run` (narration, dubbing with Kokoro, editing),
  `vss demo-media` for the cut's ranges, `vss render` with its checks, the summary. Kokoro's
  model is assembled from its wheels into the temp folder (`vss-kokoro`) on first use and kept
  there across checkouts, so a machine that ran the dubbing before reuses it, as with the
  package caches.

Not in the figure: the clone itself (`clone_seconds` beside it) and the `make down` that stops
the clone's stack afterwards. Beside the figure, each phase's seconds, taken when make's output
reaches the phase's first line (make echoes each command before it runs it, the demo prints a
heading per step). The target from the speed issue: 60 s on this machine; this measures and
reports, never asserts.

The stack listens on fixed ports: if one of them already answers (another stack on this
machine), this stops before cloning; `--port-offset N` moves the clone's stack (VSS_PORT_OFFSET).
Run: `python -m tests.bench.demo` (it starts and stops a stack of its own).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.bench_figures import OUTPUT, figure, record
from tests.support.fresh_clone import (
    busy_ports,
    clean_env,
    clone,
    package_cache_mib,
    phases,
    run_make,
    uncommitted,
)

FIGURE = "demo.fresh_seconds"
TARGET_SECONDS = 60.0
TIMEOUT_SECONDS = 1800.0
# Each phase starts with the first line of make's output holding its marker.
PHASES = (
    ("setup", ""),  # from make's start: the Debian check, the virtualenv and its packages
    ("stack", "emulators/stack.py up"),
    ("tenant", "scripts/demo.py"),
    ("run", "== vss run"),
    ("demo_media", "== vss demo-media"),
    ("render", "== vss render"),
    ("summary", "== summary"),
)


def measure(args: argparse.Namespace) -> int:
    busy = busy_ports(args.port_offset)
    if busy:
        print(f"demo bench: ports {', '.join(map(str, busy[:5]))} already answer (another "
              "stack?): pass --port-offset N, or stop it", file=sys.stderr)
        return 2
    if uncommitted():
        print("demo bench: note: uncommitted changes are not in the clone, not measured",
              file=sys.stderr)
    cache = package_cache_mib()
    work = Path(tempfile.mkdtemp(prefix="vss-bench-demo-"))
    folder = work / "clone"
    env = clean_env(args.port_offset)
    try:
        started = time.monotonic()
        commit = clone(args.ref, folder)
        cloned = time.monotonic() - started
        print(f"demo bench: {commit[:12]} cloned into {folder} in {cloned:.1f} s; "
              f"package caches {cache:.0f} MiB; `make demo` ...", flush=True)
        demo = run_make("demo", folder, env, timeout=args.timeout, echo=not args.quiet)
        measured = figure(round(demo.seconds, 1), "s", clone_seconds=round(cloned, 1),
                          package_cache_mib=cache, target_seconds=TARGET_SECONDS,
                          **{f"{name}_seconds": seconds for name, seconds
                             in phases(demo.lines, demo.seconds, PHASES).items()})
    finally:
        if (folder / ".venv" / "bin" / "python").exists():
            run_make("down", folder, env, timeout=120, echo=False)
        if args.keep:
            print(f"demo bench: the clone is kept in {folder}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if demo.code != 0:
        tail = "\n".join(line for _, line in demo.lines[-20:])
        print(f"demo bench: `make demo` failed (exit {demo.code}) after {demo.seconds:.1f} s; "
              f"nothing recorded. Its last lines:\n{tail}", file=sys.stderr)
        return 1
    report(measured)
    record({FIGURE: measured}, args.output)
    print(f"figure written to {args.output}")
    return 0


def report(measured: dict[str, Any]) -> None:
    value = measured["value"]
    verdict = "within" if value <= TARGET_SECONDS else "over"
    print(f"{FIGURE} = {value} s, {verdict} the {TARGET_SECONDS:.0f} s target (load average "
          f"{', '.join(f'{x:.2f}' for x in measured['load_average'])} on "
          f"{measured['cores']} cores)")
    for name, _ in PHASES:
        if f"{name}_seconds" in measured:
            print(f"  {name:<12}{measured[f'{name}_seconds']:>8.1f} s")
    print(f"  (clone {measured['clone_seconds']:.1f} s, not counted; package caches "
          f"{measured['package_cache_mib']:.0f} MiB)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default="HEAD",
                        help="the commit to clone and measure (default: HEAD)")
    parser.add_argument("--port-offset", type=int,
                        default=int(os.environ.get("VSS_PORT_OFFSET") or 0),
                        help="VSS_PORT_OFFSET for the clone's stack, when the default ports "
                        "are taken (default: this environment's, else 0)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS,
                        help="stop `make demo` after this many seconds (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the figure goes to (default: build/bench.json)")
    parser.add_argument("--keep", action="store_true", help="keep the clone to look at")
    parser.add_argument("--quiet", action="store_true", help="do not echo make's output")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
