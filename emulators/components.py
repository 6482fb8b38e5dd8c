"""The processes of the stack, built from the topology: command line, port, health probe and
extra environment of each emulator, of the Eventarc bridge and of every function."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from emulators import probes
from emulators.config import (
    CALLS_DIR,
    FIRESTORE_BIN,
    LEDGER_DIR,
    PUBSUB_BIN,
    REPO,
    VENV_BIN,
    Config,
    StackError,
)
from emulators.prerequisites import fake_gcs_binary
from emulators.topology import HOST, TOPOLOGY, Emulator, Function, Topology
from vss.adapters.permissions import CALL_LOG_ENV, LEDGER_ENV


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]
    port: int
    probe: Callable[[], bool]
    source: Path | None = None  # the function file, for components that are functions
    env: Mapping[str, str] = field(default_factory=dict)  # on top of the stack's environment

    @property
    def available(self) -> bool:
        return self.source is None or self.source.is_file()


def components(cfg: Config, topology: Topology = TOPOLOGY,
               env: Mapping[str, str] | None = None) -> list[Component]:
    """Every component, in start-up order: emulators, the bridge, the functions, the push
    relay (last: it delivers to functions). `env` is the stack's environment (the process's
    own by default): it may change a function's concurrency."""
    env = os.environ if env is None else env
    return [
        *(emulator_component(cfg, emulator, topology) for emulator in topology.emulators),
        bridge_component(cfg, topology),
        *(function_component(cfg, function, env) for function in topology.functions),
        relay_component(cfg, topology, env),
    ]


def _flags(pairs: dict[str, str]) -> list[str]:
    return [part for pair in pairs.items() for part in pair]


def _firestore_command(cfg: Config, topology: Topology) -> list[str]:
    return [str(FIRESTORE_BIN), "start", f"--host={HOST}", f"--port={cfg.ports['firestore']}"]


def _pubsub_command(cfg: Config, topology: Topology) -> list[str]:
    return [str(PUBSUB_BIN), f"--host={HOST}", f"--port={cfg.ports['pubsub']}"]


def _tasks_command(cfg: Config, topology: Topology) -> list[str]:
    module = [sys.executable, "-m", "gcloud_tasks_emulator", "start"]
    return [*module, "-p", str(cfg.ports["tasks"]), "-q"]


def _gcs_command(cfg: Config, topology: Topology) -> list[str]:
    flags = {
        "-scheme": "http",
        "-host": HOST,
        "-port": str(cfg.ports["gcs"]),
        # Without -public-host, fake-gcs answers signed URLs with 404.
        "-public-host": cfg.address("gcs"),
        "-external-url": cfg.url("gcs"),
        "-backend": "memory",
        "-event.pubsub-project-id": cfg.project,
        "-event.pubsub-topic": topology.bridge.topic,
        "-event.list": "finalize",
        # Production's trigger watches the uploads bucket alone; without this every artifact
        # a task writes (a WAV per dubbing segment) would cost a notification, a push and a
        # call of the storage function that drops it.
        "-event.bucket": topology.bridge.bucket,
    }
    return [str(fake_gcs_binary()), *_flags(flags)]


# How to run and probe each emulator is code; the topology only names them and their ports.
_EMULATOR_COMMANDS: dict[str, Callable[[Config, Topology], list[str]]] = {
    "firestore": _firestore_command,
    "pubsub": _pubsub_command,
    "tasks": _tasks_command,
    "gcs": _gcs_command,
}
_EMULATOR_PROBES: dict[str, Callable[[Config], bool]] = {
    "firestore": probes.firestore_ready,
    "pubsub": probes.pubsub_ready,
    "tasks": probes.tasks_ready,
    "gcs": probes.gcs_ready,
}


# The Firestore and Pub/Sub emulators are Java. On the JVM's defaults (a parallel collector,
# and C2 recompiling hot code for minutes) the Firestore emulator spent 21-26 ms of CPU per
# dubbing segment beside the workers on 2 cores; with the serial collector and the quick C1
# compiler alone, 12-15 ms, each call answering as fast, and the stack starts a second sooner.
_JVM_EMULATORS = frozenset({"firestore", "pubsub"})
JVM_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"


def emulator_component(cfg: Config, emulator: Emulator, topology: Topology) -> Component:
    name = emulator.name
    if name not in _EMULATOR_COMMANDS:
        raise StackError(f"{name}: the stack does not know how to run this emulator")
    command = _EMULATOR_COMMANDS[name](cfg, topology)
    # Their launch scripts take no JVM flags of their own; every JVM reads this variable.
    env = {"JAVA_TOOL_OPTIONS": JVM_OPTIONS} if name in _JVM_EMULATORS else {}
    return Component(name, command, cfg.ports[name], partial(_EMULATOR_PROBES[name], cfg),
                     env=env)


def bridge_component(cfg: Config, topology: Topology) -> Component:
    name = topology.bridge.name
    port = cfg.ports[name]
    flags = {"--port": str(port), "--target": cfg.url(topology.storage_function().name) + "/"}
    command = [sys.executable, str(REPO / "emulators" / "eventarc_bridge.py"), *_flags(flags)]
    return Component(name, command, port, partial(probes.port_open, port))


def relay_component(cfg: Config, topology: Topology, env: Mapping[str, str]) -> Component:
    name = topology.relay.name
    port = cfg.ports[name]
    relays = [
        f"{s.name}={cfg.url(s.push_to)}/={_push_window(topology.function(s.push_to), env)}"
        f"={s.ack_deadline_seconds}"
        for s in topology.subscriptions if s.relayed
    ]
    command = [sys.executable, str(REPO / "emulators" / "push_relay.py"), "--port", str(port),
               "--project", cfg.project, *(part for r in relays for part in ("--relay", r))]
    return Component(name, command, port, partial(probes.port_open, port))


def _push_window(function: Function, env: Mapping[str, str]) -> int:
    # Production's push window grows to what the endpoint accepts: its concurrency.
    concurrency = function.concurrency(env)
    if concurrency is None:
        raise StackError(f"{function.name}: a relayed subscription's endpoint needs a "
                         "max_concurrency, the push window")
    return concurrency


def function_component(cfg: Config, function: Function,
                       env: Mapping[str, str] | None = None) -> Component:
    port = cfg.ports[function.name]
    flags = {
        "--source": str(function.source),
        "--target": function.entry_point,
        "--signature-type": function.signature_type,
        "--port": str(port),
        "--host": HOST,
    }
    command = [str(VENV_BIN / "functions-framework"), *_flags(flags)]
    probe = (
        partial(probes.port_open, port)
        if function.health_path is None
        else partial(probes.http_ready, cfg.url(function.name) + function.health_path)
    )
    # functions-framework serves its app with gunicorn: WORKERS processes of THREADS threads.
    # A function with bounded concurrency runs as production does (`concurrency = 1`, one
    # instance per request at once): that many single-threaded processes, each taking a
    # request only when it is free. One process of that many threads queued the requests'
    # Python work behind one interpreter lock: at 16 segments at once, a segment waited
    # 200-300 ms after its speech came back, where production waits for nobody.
    concurrency = function.concurrency(os.environ if env is None else env)
    extra = {} if concurrency is None else {"WORKERS": str(concurrency), "THREADS": "1"}
    extra[LEDGER_ENV] = str(LEDGER_DIR / f"{function.name}.jsonl")
    extra[CALL_LOG_ENV] = str(CALLS_DIR / f"{function.name}.log")
    return Component(function.name, command, port, probe, source=REPO / function.source,
                     env=extra)
