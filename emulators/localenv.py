"""`.vss/local.env`, the settings every function and test reads, and the throwaway signer key.

The key is a service-account key made up on the spot, so google-cloud-storage can sign V4 URLs
offline; fake-gcs checks no signature.
"""

from __future__ import annotations

import json
import os
import secrets

from emulators.config import ENV_FILE, SIGNER_KEY_FILE, Config
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


def local_env(cfg: Config, topology: Topology = TOPOLOGY) -> dict[str, str]:
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
        # Kept for every function started later by `up` (a restart keeps the same engines).
        **{name: os.environ[name] for name in PASSED_THROUGH if name in os.environ},
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
