"""The Cloud Tasks deadline scheduler's error mapping and its backlog read (the emulator run is
in integration)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from google.api_core import exceptions as gexc
from google.cloud import tasks_v2beta3
from google.protobuf import timestamp_pb2

from tests.support.permissions import Use, missing_grants, role_permissions
from vss.adapters import permissions
from vss.adapters.cloud_tasks import CloudTasksDeadlineScheduler
from vss.errors import RetryableError
from vss.ports import QueueBacklog

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


def _with_stats(answer: object) -> tuple[CloudTasksDeadlineScheduler, mock.Mock]:
    stats = mock.Mock()  # the v2beta3 client, mocked like the other
    if isinstance(answer, Exception):
        stats.get_queue.side_effect = answer
    else:
        stats.get_queue.return_value = answer
    queue = "projects/p/locations/r/queues/q"
    return CloudTasksDeadlineScheduler(mock.Mock(), queue, "http://deadline/",
                                       stats_client=lambda: stats), stats


def test_the_backlog_is_the_queue_stats_of_the_v2beta3_api():
    arrival = timestamp_pb2.Timestamp()
    arrival.FromDatetime(AT)
    scheduler, stats = _with_stats(tasks_v2beta3.Queue(stats=tasks_v2beta3.QueueStats(
        tasks_count=42, oldest_estimated_arrival_time=arrival)))
    assert scheduler.backlog() == QueueBacklog("q", tasks=42, next_arrival=AT)
    request = stats.get_queue.call_args.kwargs["request"]
    assert request == {"name": "projects/p/locations/r/queues/q",
                       "read_mask": {"paths": ["stats"]}}  # else no stats come back


def test_an_empty_queue_reports_zero_and_no_arrival():
    scheduler, _ = _with_stats(tasks_v2beta3.Queue(stats=tasks_v2beta3.QueueStats()))
    assert scheduler.backlog() == QueueBacklog("q", tasks=0, next_arrival=None)


def test_a_queue_without_stats_or_an_api_error_reports_nothing():
    scheduler, _ = _with_stats(tasks_v2beta3.Queue(name="q"))
    assert scheduler.backlog() == QueueBacklog("q")
    scheduler, _ = _with_stats(gexc.MethodNotImplemented("v2 only"))
    assert scheduler.backlog() == QueueBacklog("q", unavailable="MethodNotImplemented")


def test_reading_the_backlog_is_in_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ledger = tmp_path / "console.jsonl"
    monkeypatch.setenv(permissions.LEDGER_ENV, str(ledger))
    scheduler, _ = _with_stats(tasks_v2beta3.Queue(name="q"))
    scheduler.backlog()
    assert json.loads(ledger.read_text()) == {"permission": "cloudtasks.queues.get",
                                              "resource": "queue/q"}
    # The role a function reading it needs, as the ledger check would name it.
    assert "roles/cloudtasks.viewer" in missing_grants(
        [Use("console", "cloudtasks.queues.get", "queue/vss-deadlines")],
        {"console": {}}, {"queues": {"deadlines": "vss-deadlines"}, "topics": {},
                          "bucket_base_names": {}, "service_accounts": {}},
        role_permissions())[0]
