"""The console's pages about the pipeline itself, on fakes: the last 24 hours' failures, and
each function's latest start with the deadline queue's backlog."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from google.api_core import exceptions as gexc

from tests.support.console import SECRET, signed_in
from tests.support.fakes import FakeClock, FakeScheduler, fake_deps
from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.dead_letters import (
    SOURCE_DELIVERY_COUNT,
    SOURCE_SUBSCRIPTION,
    DeadLetterKind,
    Delivery,
    new_dead_letter,
)
from vss.domain.failures import TaskError
from vss.domain.function_starts import FUNCTIONS, FunctionStart
from vss.domain.messages import StageMessage, StorageNotification
from vss.domain.tasks import Stage, Task, TaskType
from vss.service import dead_letters, operations, stages
from vss.service.resume import resume_task


@pytest.fixture
def deps() -> Deps:
    return fake_deps(console_secret=SECRET)


def _clock(deps: Deps) -> FakeClock:
    assert isinstance(deps.clock, FakeClock)
    return deps.clock


def _task(deps: Deps, task_id: str, tenant: str = "t_a") -> Task:
    task = rules.new_task(task_id=task_id, tenant_id=tenant,
                          task_type=TaskType.GENERATE_NARRATION, payload={}, waiting_on=[],
                          now=deps.clock(), deadline=timedelta(hours=1))
    deps.tasks.add(task)
    return task


def _past_deadline(deps: Deps, *task_ids: str) -> None:
    """Two hours on, the deadline checks fail the tasks."""
    _clock(deps).advance(2 * 3600)
    for task_id in task_ids:
        assert stages.check_deadline(deps, task_id) is True


def _linked_tasks(html: str) -> list[str]:
    return re.findall(r'href="/console/tasks/([\w-]+)"', html)


def _section(html: str, heading: str) -> str:
    return html.split(f"<h2>{heading}</h2>", 1)[1].split("</table>", 1)[0]


def test_the_failures_page_lists_the_last_24_hours_of_both_kinds(deps: Deps) -> None:
    # More than a day ago: a dead letter, and a task failed by its deadline.
    _task(deps, "old_deadline")
    _past_deadline(deps, "old_deadline")
    dead_letters.on_dead_letter(deps, Delivery("1"),
                                StageMessage(task_id="old_deadline", stage=Stage.NARRATION))
    # A task created then, failed for another cause, resumed today and failed by its deadline.
    _task(deps, "resumed")
    deps.tasks.update("resumed", lambda t: rules.fail(
        t, TaskError(code=4001, message="upstream"), deps.clock()))
    _clock(deps).advance(30 * 3600)
    _task(deps, "other_error")
    deps.tasks.update("other_error", lambda t: rules.fail(
        t, TaskError(code=3004, message="bad"), deps.clock()))
    resume_task(deps, "t_a", "resumed")
    _task(deps, "new_deadline", tenant="t_b")
    _past_deadline(deps, "resumed", "new_deadline")
    # Within the day: a stage, a segment and a storage event dead-lettered.
    _task(deps, "dead_stage", tenant="t_c")
    delivery = Delivery("2", {SOURCE_SUBSCRIPTION: "vss-stages-push",
                              SOURCE_DELIVERY_COUNT: "8", "trace": "abc123"})
    dead_letters.on_dead_letter(deps, delivery,
                                StageMessage(task_id="dead_stage", stage=Stage.NARRATION))
    dead_letters.on_dead_letter(deps, Delivery("3"), StorageNotification(
        bucket=deps.settings.uploads_bucket, name="tenants/t_d/uploads/f1/poison.json",
        event_type="OBJECT_FINALIZE"))
    deps.dead_letters.record(new_dead_letter(
        DeadLetterKind.SEGMENT, Delivery("4"), deps.clock() - timedelta(hours=23),
        task_id="gone/away", details={"plan": "p1", "index": "3"}))

    page = signed_in(deps).get("/console/failures")

    assert page.status_code == 200
    letters = _section(page.text, "Dead letters")
    assert _linked_tasks(letters) == ["dead_stage"]  # a task id that names none is not a link
    assert "<code>gone/away</code>" in letters and "index <code>3</code>" in letters
    assert "vss-stages-push" in letters and "<td>8</td>" in letters
    assert "<code>trace=abc123</code>" in letters and "<code>t_c</code>" in letters
    assert f"gs://{deps.settings.uploads_bucket}/tenants/t_d/uploads/f1/poison.json" in letters
    assert "old_deadline" not in letters
    deadline = _section(page.text, "Tasks failed by their deadline")
    assert sorted(_linked_tasks(deadline)) == ["new_deadline", "resumed"]
    assert "<code>t_b</code>" in deadline and "narration" in deadline


def test_the_failures_page_says_when_there_is_nothing(deps: Deps) -> None:
    page = signed_in(deps).get("/console/failures").text
    assert "No dead letters in the last 24 hours." in page
    assert "No task failed by its deadline in the last 24 hours." in page
    assert '<th scope="col">Received</th>' in page and "<caption>" in page
    assert 'href="/console/failures"' in page  # in the navigation


def test_a_flood_of_failures_shows_the_latest_and_says_so(deps: Deps) -> None:
    for n in range(105):
        deps.dead_letters.record(new_dead_letter(
            DeadLetterKind.STAGE, Delivery(str(n)), deps.clock() - timedelta(minutes=n)))
    page = signed_in(deps).get("/console/failures").text
    assert "(the latest 100 only)" in page
    assert page.count("<td>stage</td>") == 100


# Health

def _row(html: str, header: str) -> str:
    return html.split(f'<th scope="row">{header}</th>', 1)[1].split("</tr>", 1)[0]


def test_the_health_page_lists_every_function_and_the_ones_that_never_reported(
    deps: Deps,
) -> None:
    started = deps.clock() - timedelta(minutes=5)
    operations.record_start(deps, FunctionStart(
        function="stage_worker", version="0.1.0", revision="vss-stage-worker-00007-xyz",
        source_sha256="ab" * 32, started_at=started))
    operations.record_start(deps, FunctionStart(function="api", started_at=started))
    operations.record_start(deps, FunctionStart(function="retired", started_at=started))

    page = signed_in(deps).get("/console/health")

    assert page.status_code == 200
    assert re.findall(r'<th scope="row">(\w+)</th>', page.text)[:8] == [*FUNCTIONS, "retired"]
    worker = _row(page.text, "stage_worker")
    assert "vss-stage-worker-00007-xyz" in worker and "0.1.0" in worker
    assert "ab" * 32 in worker and str(started) in worker
    api = _row(page.text, "api")
    assert "not installed" in api and "none (not on Cloud Run)" in api and "not set" in api
    for silent in set(FUNCTIONS) - {"stage_worker", "api"}:
        assert "Never reported a start" in _row(page.text, silent), silent
    assert 'href="/console/health"' in page.text  # in the navigation


def test_the_health_page_shows_the_deadline_queue_backlog(deps: Deps) -> None:
    late = deps.clock() - timedelta(minutes=1)
    deps.deadlines.schedule("t1", late)
    deps.deadlines.schedule("t2", deps.clock() + timedelta(minutes=30))
    queue = _row(signed_in(deps).get("/console/health").text, "<code>vss-deadlines</code>")
    assert "<td>2</td>" in queue and f"{late} <strong>(late)</strong>" in queue
    assert "Cloud Monitoring" in signed_in(deps).get("/console/health").text


def test_a_backlog_the_api_does_not_report_says_so(deps: Deps) -> None:
    assert isinstance(deps.deadlines, FakeScheduler)
    deps.deadlines.fail_with = gexc.MethodNotImplemented("v2 only")
    page = signed_in(deps).get("/console/health").text
    assert "Not reported: the local Cloud Tasks emulator keeps no statistics" in page
    deps.deadlines.fail_with = None
    empty = _row(signed_in(deps).get("/console/health").text, "<code>vss-deadlines</code>")
    assert "<td>0</td>" in empty and "none waiting" in empty
