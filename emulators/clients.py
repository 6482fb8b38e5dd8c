"""Google clients pointed at the emulators, shared by the health probes and provisioning.

The Pub/Sub clients need no help: they find the emulator through PUBSUB_EMULATOR_HOST, which
`up` exports before it uses them. The google libraries are imported only when a client is made,
so `down`, `status` of a stopped stack and the prerequisite check work without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from emulators.config import Config
from emulators.topology import REGION

if TYPE_CHECKING:
    from google.cloud.storage import Client as StorageClient
    from google.cloud.tasks_v2 import CloudTasksClient


def storage_client(cfg: Config) -> StorageClient:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(
        project=cfg.project,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": cfg.url("gcs")},
    )


@contextmanager
def tasks_client(cfg: Config, ready_timeout: float | None = None) -> Iterator[CloudTasksClient]:
    """A Cloud Tasks client over a plaintext channel to the emulator, closed on exit.

    With `ready_timeout`, waits that long for the channel first (grpc.FutureTimeoutError).
    """
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    channel = grpc.insecure_channel(cfg.address("tasks"))
    try:
        if ready_timeout is not None:
            grpc.channel_ready_future(channel).result(timeout=ready_timeout)
        yield tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    finally:
        channel.close()


def tasks_parent(cfg: Config) -> str:
    return f"projects/{cfg.project}/locations/{REGION}"
