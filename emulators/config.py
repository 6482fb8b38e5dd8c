"""What the stack reads from the environment, and where it keeps its state.

State lives in `.vss/` at the repository root, or in `VSS_STATE_DIR`: `local.env` (the settings
the functions and tests read), `signer-key.json`, `console-secret`, `logs/<component>.log` and
`pids/<component>.pid`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from emulators.topology import HOST, PROJECT, TOPOLOGY, Topology

REPO = Path(__file__).resolve().parent.parent
# VSS_STATE_DIR puts the state elsewhere: a second stack in the same checkout, or a test's tmp dir.
STATE_DIR = Path(os.environ.get("VSS_STATE_DIR") or REPO / ".vss").absolute()
LOG_DIR = STATE_DIR / "logs"
PID_DIR = STATE_DIR / "pids"
ENV_FILE = STATE_DIR / "local.env"
SIGNER_KEY_FILE = STATE_DIR / "signer-key.json"
# The console's VSS_CONSOLE_SECRET, made once and kept across `up`s: it signs the console's
# sessions and the tokens `vss admin console-token` prints, so both must keep seeing one value.
CONSOLE_SECRET_FILE = STATE_DIR / "console-secret"
# Each function process appends the IAM permissions its calls use to LEDGER_DIR/<function>.jsonl
# (vss.adapters.permissions); tests/permissions checks them against the Terraform grants.
LEDGER_DIR = STATE_DIR / "ledger"
# ... and every call, one line each, to CALLS_DIR/<function>.log (the load benchmark counts
# Firestore writes and Pub/Sub publishes per task from them).
CALLS_DIR = STATE_DIR / "calls"
# The interpreter running the stack is the venv's; its scripts sit beside it.
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

STARTUP_TIMEOUT_S = 90.0


class StackError(Exception):
    """A failure the CLI reports as one line (plus a log tail) before exiting 1."""


@dataclass(frozen=True)
class Config:
    """The project and the ports of this stack (the topology's ports plus VSS_PORT_OFFSET)."""

    project: str
    ports: dict[str, int]

    def address(self, name: str) -> str:
        return f"{HOST}:{self.ports[name]}"

    def url(self, name: str) -> str:
        return f"http://{self.address(name)}"


def load_config(topology: Topology = TOPOLOGY) -> Config:
    raw_offset = os.environ.get("VSS_PORT_OFFSET", "0") or "0"
    try:
        offset = int(raw_offset)
    except ValueError:
        raise StackError(f"VSS_PORT_OFFSET must be an integer, got {raw_offset!r}") from None
    project = os.environ.get("VSS_PROJECT_ID") or PROJECT
    ports = {name: port + offset for name, port in topology.base_ports().items()}
    return Config(project, ports)


def startup_timeout() -> float:
    """Seconds `up` waits for each health step."""
    return float(os.environ.get("VSS_STACK_TIMEOUT", STARTUP_TIMEOUT_S))
