"""The task lifecycle through the service layer, with fakes for every port."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import traceback
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.support.edge_api import FakeEdge, edge_request
from tests.support.fakes import FakeClock, FakePublisher, FakeScheduler, fake_deps
from tests.support.logs import captured
from tests.support.tasks import narration_task, valid_dataset
from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.files import FileStatus
from vss.domain.messages import StageMessage
from vss.domain.results import ArtifactDigest, NarrationResult
from vss.domain.tasks import Stage, StageClaim, Task, TaskStatus
from vss.domain.usage import Usage
from vss.errors import LlmError, NotFound, RetryableError, StageBusy
from vss.service import stages, tasks, uploads
from vss.stage_handler import StageContext, StageOutput


def _published(deps: Deps) -> list[dict[str, Any]]:
    assert isinstance(deps.publisher, FakePublisher)
    return [json.loads(data) for _, data, _ in deps.publisher.published]


def _clock(deps: Deps) -> FakeClock:
    assert isinstance(deps.clock, FakeClock)
    return deps.clock


def _first_check(deps: Deps, task: Task) -> datetime:
    """A task's first check: its watchdog (it publishes a task stored but never published)."""
    return min(task.created + timedelta(seconds=deps.settings.watchdog_seconds),
               task.deadline_at)


def _result(path: str) -> NarrationResult:
    return NarrationResult(output_file_path=path, snippets=0, engine="test")


class Counting:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls = 0
        self.fail_with = fail_with

    def __call__(self, ctx: StageContext) -> StageOutput:
        self.calls += 1
        if self.fail_with:
            raise self.fail_with
        path = ctx.files.write("narration.json", b"{}", "application/json")
        return StageOutput(_result(path), Usage(tts_characters=10))


@pytest.fixture
def deps() -> Deps:
    return fake_deps()


def test_create_publishes_first_stage_and_schedules_deadline(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    assert task.status == TaskStatus.PENDING
    assert _published(deps) == [{"task_id": task.id, "stage": "narration"}]
    assert isinstance(deps.deadlines, FakeScheduler)
    assert deps.deadlines.scheduled == [(task.id, _first_check(deps, task))]


def test_tasks_and_uploads_expire_after_their_retention(deps: Deps, blueprint_bytes: bytes):
    path = valid_dataset(deps, blueprint_bytes)
    task = narration_task(deps, path)
    file_id = path.split("/")[1]
    record = deps.files.get(file_id)
    assert record is not None
    assert task.expire_at == task.created + timedelta(days=deps.settings.task_retention_days)
    assert record.expire_at == record.created + timedelta(days=deps.settings.file_retention_days)


def test_duplicate_message_runs_the_stage_once(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    handler = Counting()
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    assert stages.run_stage(deps, message, {Stage.NARRATION: handler}) == StageClaim.RUN
    again = stages.run_stage(deps, message, {Stage.NARRATION: handler})
    assert again == StageClaim.CLOSED
    assert handler.calls == 1
    done = deps.tasks.get(task.id)
    assert done is not None and done.status == TaskStatus.COMPLETED
    # Written in the attempt's own folder, and recorded with its digest.
    path = f"tasks/{task.id}/{done.current.attempt}/narration.json"
    assert done.main_result == _result(path).model_copy(update={"artifacts": [
        ArtifactDigest(path=path, sha256=hashlib.sha256(b"{}").hexdigest(), size=2)]})
    assert done.results == {Stage.NARRATION: done.main_result}
    assert done.usage == Usage(tts_characters=10)


def test_twin_message_during_a_live_stage_is_sent_back(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    seen: list[Exception] = []

    def handler(ctx: StageContext) -> StageOutput:
        try:
            stages.run_stage(deps, message, {Stage.NARRATION: handler})
        except StageBusy as exc:
            seen.append(exc)
        return StageOutput(_result("x"))

    stages.run_stage(deps, message, {Stage.NARRATION: handler})
    assert len(seen) == 1 and isinstance(seen[0], RetryableError)


def test_dead_worker_stage_is_retaken_after_its_lease(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    lease = rules.timedelta(seconds=deps.settings.stage_lease_seconds)
    deps.tasks.update(task.id, lambda t: rules.claim(t, Stage.NARRATION, "dead", deps.clock(),
                                                     lease))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    handler = Counting()
    with pytest.raises(StageBusy):
        stages.run_stage(deps, message, {Stage.NARRATION: handler})
    _clock(deps).advance(deps.settings.stage_lease_seconds + 1)
    assert stages.run_stage(deps, message, {Stage.NARRATION: handler}) == StageClaim.RUN
    after = deps.tasks.get(task.id)
    assert after is not None and after.status == TaskStatus.COMPLETED
    assert after.current.attempts == 2


def test_transient_error_releases_then_dead_letter_fails_with_cause(
    deps: Deps, blueprint_bytes: bytes
):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    boom = Counting(fail_with=RetryableError("upstream 503"))
    with pytest.raises(RetryableError):
        stages.run_stage(deps, message, {Stage.NARRATION: boom})
    held = deps.tasks.get(task.id)
    assert held is not None and held.status == TaskStatus.RUNNING
    assert held.current.state == "queued" and held.current.last_error is not None
    assert stages.on_dead_letter(deps, message) is True
    failed = deps.tasks.get(task.id)
    assert failed is not None and failed.status == TaskStatus.FAILED and failed.error
    assert failed.error.code == RetryableError.code
    assert "upstream 503" in failed.error.message
    assert failed.error.details["attempts"] == 1


def test_unexpected_exception_is_retried_not_swallowed(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    # Re-raised as a RetryableError (without its cause) for the trigger to redeliver.
    with pytest.raises(RetryableError, match="KeyError"):
        stages.run_stage(deps, message, {Stage.NARRATION: Counting(fail_with=KeyError("x"))})
    held = deps.tasks.get(task.id)
    assert held is not None and held.current.last_error is not None
    assert "KeyError" in held.current.last_error.message


def test_permanent_error_fails_the_task_with_its_code(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    stages.run_stage(deps, message, {Stage.NARRATION: Counting(fail_with=LlmError("refused"))})
    failed = deps.tasks.get(task.id)
    assert failed is not None and failed.status == TaskStatus.FAILED
    assert failed.error is not None and failed.error.code == 3002


def test_cancel_during_a_stage_drops_its_output(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)

    def handler(ctx: StageContext) -> StageOutput:
        tasks.cancel_task(deps, "t1", task.id)
        return StageOutput(_result("x"))

    stages.run_stage(deps, message, {Stage.NARRATION: handler})
    after = deps.tasks.get(task.id)
    assert after is not None and after.status == TaskStatus.CANCELED and not after.results
    assert stages.run_stage(deps, message, {Stage.NARRATION: Counting()}) == StageClaim.CLOSED


def test_deadline_fails_an_unfinished_task_only_after_it(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    assert stages.check_deadline(deps, task.id) is False
    _clock(deps).advance(deps.settings.task_deadline_seconds + 1)
    assert stages.check_deadline(deps, task.id) is True
    failed = deps.tasks.get(task.id)
    assert failed is not None and failed.error is not None and failed.error.code == 2004


def test_task_on_invalid_dataset_fails_with_3004(deps: Deps):
    bad = json.dumps({"project_metadata": {}, "chapters": {}, "scenes": {},
                      "narrative_timeline": {"type": "linear", "sequence": {}}}).encode()
    record = uploads.store_upload(deps, "t1", "bad.json", bad)
    checked = uploads.check_landed_object(
        deps, deps.settings.uploads_bucket, f"tenants/t1/{record.relative_path}",
        record.generation)
    assert checked is not None and checked.status == FileStatus.INVALID and checked.errors
    task = narration_task(deps, record.relative_path)
    assert task.status == TaskStatus.FAILED and task.error is not None
    assert task.error.code == 3004 and task.error.details["errors"] == checked.errors


def test_task_waits_for_its_upload_then_starts(deps: Deps, blueprint_bytes: bytes):
    record = uploads.store_upload(deps, "t1", "blueprint.json", blueprint_bytes)
    task = narration_task(deps, record.relative_path)
    assert task.waiting_on == [record.id] and _published(deps) == []
    uploads.check_landed_object(deps, deps.settings.uploads_bucket,
                                f"tenants/t1/{record.relative_path}", record.generation)
    assert _published(deps) == [{"task_id": task.id, "stage": "narration"}]


def test_another_tenants_file_and_task_are_not_found(deps: Deps, blueprint_bytes: bytes):
    path = valid_dataset(deps, blueprint_bytes, tenant="t1")
    with pytest.raises(NotFound):
        narration_task(deps, path, tenant="t2")
    task = narration_task(deps, path, tenant="t1")
    with pytest.raises(NotFound):
        tasks.get_task(deps, "t2", task.id)


@pytest.mark.parametrize("task_id", ["never-stored", "a/b", "__x__", ".."])
def test_a_deadline_check_for_an_unknown_task_is_not_found(deps: Deps, task_id: str):
    # NotFound is what the deadline function acknowledges (200) instead of retrying forever.
    with pytest.raises(NotFound):
        stages.check_deadline(deps, task_id)


def test_the_deadline_is_scheduled_before_the_task_is_stored(deps: Deps, blueprint_bytes: bytes):
    path = valid_dataset(deps, blueprint_bytes)
    assert isinstance(deps.deadlines, FakeScheduler)
    deps.deadlines.fail_with = RetryableError("queue unavailable")
    with pytest.raises(RetryableError):
        narration_task(deps, path)
    assert deps.tasks.list_for_tenant("t1", limit=10, after=None) == ([], None)
    assert _published(deps) == []
    deps.deadlines.fail_with = None  # the client retries: one task, one deadline
    task = narration_task(deps, path)
    assert deps.deadlines.scheduled == [(task.id, _first_check(deps, task))]


def test_an_object_with_a_malformed_file_id_is_ignored(deps: Deps, blueprint_bytes: bytes):
    bucket = deps.settings.uploads_bucket
    generation = deps.blobs.write(bucket, "tenants/t1/uploads/__x__/b.json", blueprint_bytes,
                                  "application/json")
    assert uploads.check_landed_object(
        deps, bucket, "tenants/t1/uploads/__x__/b.json", generation) is None


def test_an_unknown_page_token_is_refused_not_restarted(deps: Deps, blueprint_bytes: bytes):
    from vss.errors import BadRequest

    path = valid_dataset(deps, blueprint_bytes)
    made = []
    for _ in range(3):
        made.append(narration_task(deps, path))
        _clock(deps).advance(1)
    page, token = tasks.list_tasks(deps, "t1", limit=2, page_token=None)
    rest, end = tasks.list_tasks(deps, "t1", limit=2, page_token=token)
    assert [t.id for t in page + rest] == [t.id for t in reversed(made)] and end is None
    for bad in ("zzzz", "__x__", "../../x", made[0].id.upper()):
        with pytest.raises(BadRequest) as caught:
            tasks.list_tasks(deps, "t1", limit=2, page_token=bad)
        assert caught.value.details["errors"][0]["pointer"] == "/query/page_token"
    with pytest.raises(BadRequest):  # another tenant's task is no cursor of yours
        tasks.list_tasks(deps, "t2", limit=2, page_token=made[0].id)


SETTINGS_KEY = "gemini-key-from-the-settings-0123"  # not key-shaped: masked by value
SHAPED_KEY = "AIza" + "k" * 35  # a Google API key we were never told about
EDGE_KEY = "vss_" + "e" * 43  # an X-Api-Key value


@pytest.mark.parametrize("failure", [
    KeyError(f"https://generativelanguage.googleapis.com/v1/x?key={SETTINGS_KEY}"),
    RuntimeError(f"request failed, headers={{'x-goog-api-key': '{SHAPED_KEY}'}}"),
    RuntimeError(f"edge key {EDGE_KEY} in a request dump"),
    RetryableError(f"upstream: {SETTINGS_KEY} rejected", details={"url": f"?key={SHAPED_KEY}"}),
    LlmError(f"refused for {SETTINGS_KEY}", details={"errors": [{"reason": SHAPED_KEY}]}),
], ids=["unexpected-url", "unexpected-header", "edge-key", "retryable", "permanent"])
def test_no_secret_of_a_failed_stage_reaches_the_log_the_task_or_the_trigger(
    blueprint_bytes: bytes, failure: Exception
):
    deps = fake_deps(gemini_api_key=SETTINGS_KEY)
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    raised: list[str] = []
    # Lines as the functions print them: the formatter configure_logging installs.
    with captured(logging.DEBUG, deps.settings.secret_values()) as lines:
        try:
            stages.run_stage(deps, message, {Stage.NARRATION: Counting(fail_with=failure)})
        except RetryableError as exc:  # what the functions framework would log
            raised.append("".join(traceback.format_exception(exc)))
        stages.on_dead_letter(deps, message)
    stored = deps.tasks.get(task.id)
    assert stored is not None and stored.error is not None
    assert "***" in stored.error.model_dump_json()
    assert any("stage failed" in x["message"] or "FAILED" in x["message"] for x in lines)
    for text in [json.dumps(lines), stored.model_dump_json(), *raised]:
        assert SETTINGS_KEY not in text and SHAPED_KEY not in text and EDGE_KEY not in text


@pytest.mark.parametrize("task_id", ["0" * 32, "a/b", "__x__"])
def test_messages_for_no_such_task_are_acknowledged_not_redelivered(deps: Deps, task_id: str):
    handler = Counting()
    message = StageMessage(task_id=task_id, stage=Stage.NARRATION)
    assert stages.run_stage(deps, message, {Stage.NARRATION: handler}) == StageClaim.UNKNOWN
    assert handler.calls == 0
    assert stages.on_dead_letter(deps, message) is False


def test_a_signed_upload_that_lands_with_another_size_is_invalid(
    deps: Deps, blueprint_bytes: bytes,
):
    declared = uploads.request_signed_upload(deps, "t1", uploads.SignedUploadRequest(
        filename="blueprint.json", size=len(blueprint_bytes) - 1))
    bucket = deps.settings.uploads_bucket
    name = f"tenants/t1/{declared.relative_path}"
    generation = deps.blobs.write(bucket, name, blueprint_bytes, "application/json")
    for _ in range(2):  # a duplicate event re-checks to the same verdict
        checked = uploads.check_landed_object(deps, bucket, name, generation)
        assert checked is not None and checked.status == FileStatus.INVALID
        assert "were declared" in checked.errors[0]["reason"]


def _waiting_on_an_upload_whose_event_is_lost(edge: FakeEdge, blueprint_bytes: bytes,
                                               signed: bool = False) -> tuple[str, str]:
    """A narration created on an upload whose storage event never comes (its check never
    runs): the task, waiting, and the upload's path."""
    if signed:
        answer = edge.client.post("/api/v1/files/upload/", headers=edge.headers, json={
            "filename": "blueprint.json", "content_type": "application/json",
            "size": len(blueprint_bytes)}).get_json()
        dataset = answer["relative_path"]
    else:
        dataset = edge.client.post("/api/v1/files/upload/", headers=edge.headers, data={
            "file": (io.BytesIO(blueprint_bytes), "blueprint.json")}).get_json()["relative_path"]
    created = edge.create(edge_request("generate_narration", blueprint_path=dataset))
    assert created.get_json()["status"] == "PENDING"
    return str(created.get_json()["id"]), dataset


def test_the_watchdog_checks_an_upload_whose_event_was_lost(blueprint_bytes: bytes):
    edge = FakeEdge.of(fake_deps())
    clock = edge.deps.clock
    assert isinstance(clock, FakeClock)
    task_id, _ = _waiting_on_an_upload_whose_event_is_lost(edge, blueprint_bytes)

    stages.check_deadline(edge.deps, task_id)  # within a watchdog period the event may come
    assert edge.task(task_id)["status"] == "PENDING"

    clock.advance(edge.deps.settings.watchdog_seconds + 1)
    with captured(logging.WARNING) as logs:
        stages.check_deadline(edge.deps, task_id)
    assert any("its storage event did not come" in line["message"] for line in logs)
    edge.run_stages()
    assert edge.task(task_id)["status"] == "COMPLETED"


def test_the_watchdog_waits_for_a_signed_upload_that_has_not_landed(blueprint_bytes: bytes):
    edge = FakeEdge.of(fake_deps())
    clock = edge.deps.clock
    assert isinstance(clock, FakeClock)
    task_id, dataset = _waiting_on_an_upload_whose_event_is_lost(edge, blueprint_bytes,
                                                                 signed=True)
    clock.advance(edge.deps.settings.watchdog_seconds + 1)
    stages.check_deadline(edge.deps, task_id)
    edge.run_stages()
    assert edge.task(task_id)["status"] == "PENDING"  # nothing to check yet

    edge.deps.blobs.write(edge.deps.settings.uploads_bucket, f"tenants/{edge.tenant}/{dataset}",
                          blueprint_bytes, "application/json")  # it lands; its event is lost
    stages.check_deadline(edge.deps, task_id)
    edge.run_stages()
    assert edge.task(task_id)["status"] == "COMPLETED"
