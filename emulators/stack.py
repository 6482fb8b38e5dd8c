"""The local stack: official emulators, the Eventarc bridge, the functions and the push relay,
one process each.

    .venv/bin/python emulators/stack.py up|down|status

What runs is data in topology.py; this file only sequences it. The modules beside it do the
work: config.py (environment, state dir), localenv.py (`.vss/local.env`, the signer key, the
console secret), prerequisites.py, components.py (command lines), processes.py (pid files,
logs, start, stop), probes.py (health) and provision.py (buckets, topics, subscriptions,
queues).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

if __name__ == "__main__" and not __package__:
    # Run as a script, Python put emulators/ on sys.path; the package lives one level up. Swap
    # them, so modules here named config, clients, ... cannot shadow anyone else's.
    _HERE = Path(__file__).resolve().parent
    sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if Path(p).resolve() != _HERE)]

from emulators.bytecode import compile_imports
from emulators.components import Component, components
from emulators.config import (
    ENV_FILE,
    LOG_DIR,
    PID_DIR,
    REPO,
    STATE_DIR,
    Config,
    StackError,
    load_config,
    startup_timeout,
)
from emulators.localenv import (
    ensure_console_secret,
    ensure_signer_key,
    local_env,
    write_env_file,
)
from emulators.prerequisites import missing_prerequisites
from emulators.probes import http_status
from emulators.processes import Launcher, pid_file, running_pid, running_record, stop_groups
from emulators.provision import create_topics, provision
from emulators.topology import HOST, TOPOLOGY


def up(cfg: Config) -> None:
    missing = missing_prerequisites()
    if missing:
        raise StackError("missing: " + "; ".join(missing))
    check_ports_unchanged(components(cfg))
    for directory in (STATE_DIR, LOG_DIR, PID_DIR):
        directory.mkdir(parents=True, exist_ok=True)
    env_values = local_env(cfg, console_secret=ensure_console_secret())
    write_env_file(env_values)
    ensure_signer_key(cfg.project)
    # The google clients below find the emulators through these variables too.
    os.environ.update(env_values)
    launcher = Launcher(dict(os.environ))
    timeout = startup_timeout()

    by_name = {c.name: c for c in components(cfg)}
    # The Python components' imports are compiled while the emulators boot (see bytecode.py).
    compiling = compile_imports(
        [c.source for c in by_name.values() if c.source is not None and c.available]
        + [REPO / "emulators" / script for script in ("push_relay.py", "eventarc_bridge.py")],
        cwd=REPO)
    emulator_names = [e.name for e in TOPOLOGY.emulators]
    emulators = [by_name[name] for name in emulator_names]
    # fake-gcs publishes its notifications to a topic that must exist before it runs: the other
    # emulators first, then the topics, then fake-gcs.
    launcher.ensure([c for c in emulators if c.name != "gcs"])
    launcher.wait_healthy([by_name["pubsub"]], timeout)
    create_topics(cfg)
    launcher.ensure([by_name["gcs"]])
    launcher.wait_healthy(emulators, timeout)
    provision(cfg)

    services = [c for c in by_name.values() if c.name not in emulator_names]
    for component in services:
        if not component.available:
            print(f"{component.name}: skipped, {component.source} does not exist yet")
    runnable = [c for c in services if c.available]
    if compiling is not None:
        try:
            compiling.wait(timeout)
        except subprocess.TimeoutExpired:  # only slower: each function compiles what it lacks
            compiling.kill()
    launcher.ensure(runnable)
    launcher.wait_healthy(runnable, timeout)
    warn_missing_health_routes(cfg, runnable)
    print(f"stack up: {len(emulators) + len(runnable)} components, settings in {ENV_FILE}")


def check_ports_unchanged(wanted: Iterable[Component]) -> None:
    """Refuse to mix a running stack with one on other ports: they would share `.vss/`."""
    for component in wanted:
        record = running_record(component.name)
        if record is not None and record.port not in (None, component.port):
            raise StackError(
                f"{component.name} already runs on port {record.port}, not {component.port} "
                "(another VSS_PORT_OFFSET?); run `stack.py down` first"
            )


def warn_missing_health_routes(cfg: Config, running: list[Component]) -> None:
    """The probe only asked for an answer; a function with a health route should answer 200."""
    names = {c.name for c in running}
    for function in TOPOLOGY.functions:
        path = function.health_path
        if path is None or function.name not in names:
            continue
        answer = http_status(cfg.url(function.name) + path)
        if answer is None or answer[0] != 200:
            code = answer[0] if answer else "no answer"
            print(f"{function.name}: warning, GET {path} answered {code}, expected 200")


def down(cfg: Config) -> None:
    names = [c.name for c in reversed(components(cfg))]
    running = {name: pid for name in names if (pid := running_pid(name)) is not None}
    stop_groups(running)
    for name in names:
        pid_file(name).unlink(missing_ok=True)
    print(f"stack down: stopped {', '.join(running) or 'nothing (nothing was running)'}")


def status(cfg: Config) -> None:
    for component in components(cfg):
        pid = running_pid(component.name)
        address = f"{HOST}:{component.port}"
        if pid is not None:
            health = "healthy" if component.probe() else "unhealthy"
            state = f"running  pid {pid:<7} {health}"
        elif not component.available:
            state = f"absent   ({component.source} does not exist)"
        else:
            state = "stopped"
        print(f"{component.name:<16} {address:<16} {state}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the local emulator stack.")
    parser.add_argument("command", choices=("up", "down", "status"))
    args = parser.parse_args()
    actions = {"up": up, "down": down, "status": status}
    try:
        actions[args.command](load_config())
    except StackError as exc:
        print(f"stack {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
