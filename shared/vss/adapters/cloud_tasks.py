"""Per-task deadline checks as Cloud Tasks HTTP tasks.

Every check gets a name of its own: Cloud Tasks keeps the name of an executed or deleted task
for up to a few hours (and longer) and refuses it meanwhile, so a check that reschedules the
task's next check from inside itself, at the same time, must not reuse its own name. A check
scheduled twice runs twice, which is harmless: the check is idempotent.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import grpc
from google.api_core import exceptions as gexc
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport
from google.protobuf import timestamp_pb2

from vss.adapters import permissions
from vss.errors import RetryableError


class CloudTasksDeadlineScheduler:
    def __init__(
        self, client: tasks_v2.CloudTasksClient, queue_path: str, target_url: str,
        service_account: str | None = None,
    ) -> None:
        self._client = client
        self._queue = queue_path
        self._url = target_url
        self._service_account = service_account

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
        return cls(client, client.queue_path(project, region, queue), target_url, service_account)

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
