"""Per-task deadline checks as Cloud Tasks HTTP tasks.

Every check gets a name of its own: Cloud Tasks keeps the name of an executed or deleted task
for up to a few hours (and longer) and refuses it meanwhile, so a check that reschedules the
task's next check from inside itself, at the same time, must not reuse its own name. A check
scheduled twice runs twice, which is harmless: the check is idempotent.

The queue's backlog (`stats`) is only in the v2beta3 API's GetQueue (v2's Queue has no such
field): that one call goes through a v2beta3 client, built on first use, so the functions that
only schedule checks never load it. The local emulator serves v2 alone and reports nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
from google.api_core import exceptions as gexc
from google.auth import exceptions as gauth
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport
from google.protobuf import timestamp_pb2

from vss.adapters import permissions
from vss.errors import RetryableError
from vss.ports import QueueBacklog

# The console waits on the backlog: one read, this long at most.
BACKLOG_TIMEOUT_SECONDS = 10.0


class CloudTasksDeadlineScheduler:
    def __init__(
        self, client: tasks_v2.CloudTasksClient, queue_path: str, target_url: str,
        service_account: str | None = None, stats_client: Callable[[], Any] | None = None,
    ) -> None:
        self._client = client
        self._queue = queue_path
        self._url = target_url
        self._service_account = service_account
        # Builds the v2beta3 client that reads the queue's statistics (see the module doc).
        self._stats_client = stats_client or (lambda: _stats_client(None))
        self._stats: Any = None

    @classmethod
    def connect(
        cls, project: str, region: str, queue: str, target_url: str,
        emulator_host: str | None, service_account: str | None = None,
    ) -> CloudTasksDeadlineScheduler:
        if emulator_host:
            transport = CloudTasksGrpcTransport(channel=grpc.insecure_channel(emulator_host))
            client = tasks_v2.CloudTasksClient(transport=transport)
        else:
            client = tasks_v2.CloudTasksClient()
        return cls(client, client.queue_path(project, region, queue), target_url, service_account,
                   stats_client=lambda: _stats_client(emulator_host))

    def schedule(self, task_id: str, at: datetime) -> None:
        queue_name = self._queue.rsplit("/", 1)[-1]
        permissions.used("cloudtasks.tasks.create", permissions.queue(queue_name))
        when = timestamp_pb2.Timestamp()
        when.FromDatetime(at)
        request = tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST, url=self._url,
            headers={"Content-Type": "application/json"},
            body=json.dumps({"task_id": task_id}).encode(),
        )
        if self._service_account:  # the task acts as that identity when it calls the check
            permissions.used("iam.serviceAccounts.actAs",
                             permissions.service_account(self._service_account))
            request.oidc_token = tasks_v2.OidcToken(service_account_email=self._service_account)
        task = tasks_v2.Task(
            name=f"{self._queue}/tasks/deadline-{task_id}-{int(at.timestamp())}-"
                 f"{uuid.uuid4().hex[:8]}",
            http_request=request,
            schedule_time=when,
        )
        try:
            self._client.create_task(parent=self._queue, task=task)
        except gexc.GoogleAPIError as exc:  # API errors and exhausted client retries
            raise RetryableError(
                "The task's deadline could not be scheduled; try again.",
                details={"task_id": task_id, "cause": type(exc).__name__},
            ) from exc

    def backlog(self) -> QueueBacklog:
        name = self._queue.rsplit("/", 1)[-1]
        permissions.used("cloudtasks.queues.get", permissions.queue(name))
        try:
            if self._stats is None:
                self._stats = self._stats_client()
            # `stats` is returned only when the read mask names it.
            queue = self._stats.get_queue(
                request={"name": self._queue, "read_mask": {"paths": ["stats"]}},
                timeout=BACKLOG_TIMEOUT_SECONDS)
        # The emulator answers UNIMPLEMENTED; a process without credentials cannot ask.
        except (gexc.GoogleAPIError, gauth.GoogleAuthError) as exc:
            return QueueBacklog(name, unavailable=type(exc).__name__)
        if "stats" not in queue:
            return QueueBacklog(name)
        stats = queue.stats
        arrival = (stats.oldest_estimated_arrival_time
                   if "oldest_estimated_arrival_time" in stats else None)
        return QueueBacklog(name, tasks=int(stats.tasks_count), next_arrival=arrival)


def _stats_client(emulator_host: str | None) -> Any:
    from google.cloud import tasks_v2beta3
    from google.cloud.tasks_v2beta3.services.cloud_tasks.transports import (
        CloudTasksGrpcTransport as BetaGrpcTransport,
    )

    if emulator_host:
        channel = grpc.insecure_channel(emulator_host)
        return tasks_v2beta3.CloudTasksClient(transport=BetaGrpcTransport(channel=channel))
    return tasks_v2beta3.CloudTasksClient()
