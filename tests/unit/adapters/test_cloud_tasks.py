"""The Cloud Tasks deadline scheduler's error mapping (the emulator run is in integration)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from unittest import mock

import pytest
from google.api_core import exceptions as gexc

from vss.adapters.cloud_tasks import CloudTasksDeadlineScheduler
from vss.errors import RetryableError

AT = datetime(2026, 1, 1, tzinfo=UTC)


def _scheduler(side_effect: object) -> tuple[CloudTasksDeadlineScheduler, mock.Mock]:
    client = mock.Mock()  # a third-party client: mocked, not faked
    client.create_task.side_effect = side_effect
    queue = "projects/p/locations/r/queues/q"
    return CloudTasksDeadlineScheduler(client, queue, "http://deadline/"), client


@pytest.mark.parametrize("error", [
    gexc.ServiceUnavailable("down"), gexc.DeadlineExceeded("slow"),
    gexc.PermissionDenied("no"), gexc.RetryError("gave up", cause=None),
])
def test_a_queue_that_cannot_take_the_deadline_is_a_retryable_error(error: Exception):
    scheduler, _ = _scheduler(error)
    with pytest.raises(RetryableError) as caught:
        scheduler.schedule("t1", AT)
    assert caught.value.http_status == 503 and caught.value.details["task_id"] == "t1"


def test_every_check_has_a_name_of_its_own():
    # A check that reschedules the next one for the same time from inside itself (it came
    # early) must not reuse its own name, which Cloud Tasks refuses for hours after it ran.
    scheduler, client = _scheduler(None)
    scheduler.schedule("t1", AT)
    scheduler.schedule("t1", AT)
    names = [call.kwargs["task"].name for call in client.create_task.call_args_list]
    assert len(set(names)) == 2
    assert all(re.fullmatch(rf".*/tasks/deadline-t1-{int(AT.timestamp())}-[0-9a-f]{{8}}", name)
               for name in names)
