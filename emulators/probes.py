"""Health probes: each answers "is this component serving yet?" without raising."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

from emulators.clients import tasks_client, tasks_parent
from emulators.config import Config
from emulators.topology import HOST


def http_status(url: str) -> tuple[int, str] | None:
    """(status, start of the body) of a GET, or None when nothing answers."""
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

    # The emulator's gRPC server takes a while after the port opens; listing queues proves it.
    if not port_open(cfg.ports["tasks"]):
        return False
    try:
        with tasks_client(cfg, ready_timeout=2) as client:
            list(client.list_queues(parent=tasks_parent(cfg), timeout=2))
        return True
    except (grpc.FutureTimeoutError, exceptions.GoogleAPIError):
        return False


def http_ready(url: str) -> bool:
    # Answering HTTP is "up"; whether the route exists is reported after startup.
    answer = http_status(url)
    return answer is not None and answer[0] < 500
