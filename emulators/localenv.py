"""`.vss/local.env`, the settings every function and test reads, the throwaway signer key and
the console's secret.

The key is a service-account key made up on the spot, so google-cloud-storage can sign V4 URLs
offline; fake-gcs checks no signature. The console secret is made once as well (or taken from
`VSS_CONSOLE_SECRET` the first time), so the console and `vss admin console-token`, which both
read it from local.env, agree across restarts of the stack.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from emulators.config import CONSOLE_SECRET_FILE, ENV_FILE, SIGNER_KEY_FILE, Config, StackError
from emulators.topology import (
    ARTIFACTS_BUCKET,
    DEADLINE_QUEUE,
    REGION,
    SEGMENTS_TOPIC,
    STAGES_TOPIC,
    TOPOLOGY,
    UPLOADS_BUCKET,
    Topology,
)

# Settings a caller of `up` may choose for the whole stack (`make test` speaks with espeak-ng).
PASSED_THROUGH = ("VSS_TTS_OFFLINE_ENGINES",)


def local_env(cfg: Config, topology: Topology = TOPOLOGY, *, console_secret: str
              ) -> dict[str, str]:
    storage_url = cfg.url("gcs")
    deadlines = topology.queue(DEADLINE_QUEUE)
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
        "VSS_DEADLINE_URL": cfg.url(deadlines.target) + "/",
        "VSS_DEADLINE_QUEUE": deadlines.name,
        # The identity production's checks carry (Terraform's deadline_invoker): the emulator
        # ignores the token, but the code asks for it as in production (and the permission
        # ledger records acting as it).
        "VSS_DEADLINE_SERVICE_ACCOUNT":
            f"vss-deadline-invoker@{cfg.project}.iam.gserviceaccount.com",
        "VSS_SIGNER_KEY_FILE": str(SIGNER_KEY_FILE),
        "VSS_API_URL": cfg.url("api"),
        # Where an operator opens the console (tests and the CLI's users; not a setting).
        "VSS_CONSOLE_URL": cfg.url("console") + "/console/",
        # The push relay's counters (benchmarks; not a setting).
        "VSS_PUSH_RELAY_URL": cfg.url(topology.relay.name) + "/",
        "VSS_STAGES_TOPIC": STAGES_TOPIC,
        "VSS_SEGMENTS_TOPIC": SEGMENTS_TOPIC,
        "VSS_UPLOADS_BUCKET": UPLOADS_BUCKET,
        "VSS_ARTIFACTS_BUCKET": ARTIFACTS_BUCKET,
        # A short lease locally, so a killed worker's stage is retaken within a few
        # redeliveries (topology.LOCAL_RETRY, 8 attempts) instead of after the production minute.
        "VSS_STAGE_LEASE_SECONDS": "6",
        # Likewise a killed tts_worker's segment (production: tts_worker's timeout).
        "VSS_SEGMENT_LEASE_SECONDS": "8",
        # The Pub/Sub emulator may stop pushing messages to an endpoint that refused them
        # (a killed worker); the watchdog publishes them again within seconds.
        "VSS_WATCHDOG_SECONDS": "10",
        # Signs the console's sessions and admin tokens (`ensure_console_secret`).
        "VSS_CONSOLE_SECRET": console_secret,
        # Kept for every function started later by `up` (a restart keeps the same engines).
        **{name: os.environ[name] for name in PASSED_THROUGH if name in os.environ},
    }


def write_env_file(env: dict[str, str]) -> None:
    text = "".join(f"{key}={value}\n" for key, value in env.items())
    # Tests may be reading the file while `up` runs: replace it in one step. It holds the
    # console secret: readable by its owner only.
    tmp = ENV_FILE.with_suffix(".env.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    tmp.replace(ENV_FILE)
    ENV_FILE.chmod(0o600)  # a file an older `up` wrote with the default mode


def ensure_console_secret(path: Path = CONSOLE_SECRET_FILE) -> str:
    """The stack's console secret: the one kept in the state dir, else `VSS_CONSOLE_SECRET`
    or, when that is unset, a new random one, kept from now on.

    A running console keeps the secret it started with, so a different `VSS_CONSOLE_SECRET`
    later is refused rather than written where the CLI would read it.
    """
    chosen = os.environ.get("VSS_CONSOLE_SECRET") or None
    if path.exists():
        kept = path.read_text().strip()
        if chosen is not None and chosen != kept:
            raise StackError(
                f"VSS_CONSOLE_SECRET differs from the stack's own ({path}); to change it, run "
                "`stack.py down` and delete that file first"
            )
        return kept
    secret = chosen or secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


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
