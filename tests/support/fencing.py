"""Scenarios of overlapping attempts: every stage and segment attempt owns its writes.

Each test is a scenario where two attempts of the same work overlap (a paused worker whose
lease ran out, a resume while the old attempt still runs); before fencing, each left a task
whose recorded result and published files disagreed, or a task that waited for nothing.
They run twice: on fakes (`tests/unit/service/test_fencing.py`) and with the records and
files in the emulators (`tests/integration/test_fencing_stack.py`); each module provides the
fixtures `deps` (a fake clock, publisher and scheduler) and `planned` (a dubbing task whose plan
ran).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta
from typing import Any

import pytest

from tests.support.fake_audio import RecordingSpeechEngine
from tests.support.fakes import FakeClock, FakePublisher
from tests.support.logs import captured
from tests.support.tasks import (
    deliver_published,
    narration_task,
    segment_message,
    segments_of,
    valid_dataset,
)
from vss.deps import Deps
from vss.domain.artifacts import DubbingScript
from vss.domain.audio import wav_duration_seconds
from vss.domain.files import FileStatus
from vss.domain.leases import LeaseState
from vss.domain.messages import StageMessage
from vss.domain.results import NarrationResult
from vss.domain.segments import SegmentClaim
from vss.domain.tasks import Stage, StageClaim, Task, TaskStatus
from vss.domain.usage import Usage
from vss.errors import LlmError, PayloadInvalid, RetryableError
from vss.service import resume, segments, stages, tasks, uploads
from vss.service.storage import TaskFiles
from vss.stage_handler import SegmentContext, SegmentOutput, StageContext, StageOutput


def _task(deps: Deps, task_id: str) -> Task:
    task = deps.tasks.get(task_id)
    assert task is not None
    return task


def _clock(deps: Deps) -> FakeClock:
    assert isinstance(deps.clock, FakeClock)
    return deps.clock


def _read(deps: Deps, task: Task, path: str) -> bytes:
    return TaskFiles(deps, task.tenant_id, task.id).read(path)


def _assert_published_bytes_match_the_results(deps: Deps, task: Task) -> None:
    """The invariant: every file a result records holds exactly the recorded bytes."""
    for result in task.results.values():
        assert result.artifacts, f"{result.stage} recorded no artifact"
        for digest in result.artifacts:
            data = _read(deps, task, digest.path)
            assert (hashlib.sha256(data).hexdigest(), len(data)) == (digest.sha256, digest.size)


# --- 1. twin segment workers ------------------------------------------------------------------

def _finish_dubbing(deps: Deps, task_id: str) -> tuple[Task, DubbingScript]:
    for segment in segments_of(deps, task_id):
        if segment.state != LeaseState.DONE:
            segments.run_segment(deps, segment_message(deps, task_id, segment.index))
    assert isinstance(deps.publisher, FakePublisher)
    deliver_published(deps, 0)
    done = _task(deps, task_id)
    assert done.status == TaskStatus.COMPLETED, done.error
    assert done.main_result is not None
    return done, DubbingScript.model_validate_json(
        _read(deps, done, done.main_result.output_file_path))


def _assert_script_describes_its_audio(deps: Deps, task: Task, script: DubbingScript) -> None:
    for entry in script.dubbing_script:
        wav = _read(deps, task, entry.audio_file_path)
        assert wav_duration_seconds(wav) == pytest.approx(entry.duration_seconds, abs=0.001)
    _assert_published_bytes_match_the_results(deps, task)


def test_a_paused_segment_worker_that_finishes_after_its_twin_changes_nothing(
    planned: tuple[Deps, Task], speech: RecordingSpeechEngine,
):
    deps, task = planned
    real = deps.segment_handler
    assert real is not None
    lease = deps.settings.segment_lease_seconds
    message = segment_message(deps, task.id, 0)

    def paused_then_twin(ctx: SegmentContext) -> SegmentOutput:
        # Worker A is paused past its lease; the watchdog's republish lets twin B take the
        # segment and finish it with its own take; then A wakes up with a different take.
        _clock(deps).advance(lease + 1)
        assert segments.run_segment(deps, message, real) == SegmentClaim.RUN
        speech.pace = 0.8  # A's take is slower: another duration, other bytes
        return real(ctx)

    with captured() as logs:
        assert segments.run_segment(deps, message, paused_then_twin) == SegmentClaim.RUN
    assert any("stale attempt" in line["message"] for line in logs)
    twin = segments_of(deps, task.id)[0]
    assert twin.state == LeaseState.DONE and twin.attempts == 2
    speech.pace = 1.0
    done, script = _finish_dubbing(deps, task.id)
    assert script.dubbing_script[0].audio_file_path == twin.output["audio_file_path"]  # type: ignore[index]
    _assert_script_describes_its_audio(deps, done, script)
    assert done.progress is not None and done.progress.done == done.progress.total


def test_a_paused_segment_worker_that_finishes_before_its_twin_is_dropped(
    planned: tuple[Deps, Task], speech: RecordingSpeechEngine,
):
    deps, task = planned
    real = deps.segment_handler
    assert real is not None
    message = segment_message(deps, task.id, 0)
    twin_claimed, twin_may_finish = threading.Event(), threading.Event()

    def held_twin(ctx: SegmentContext) -> SegmentOutput:
        twin_claimed.set()
        assert twin_may_finish.wait(10)
        return real(ctx)

    def paused(ctx: SegmentContext) -> SegmentOutput:
        _clock(deps).advance(deps.settings.segment_lease_seconds + 1)
        twin.start()
        assert twin_claimed.wait(10)
        speech.pace = 0.8
        return real(ctx)  # A finishes first, while B holds the segment

    twin = threading.Thread(target=segments.run_segment, args=(deps, message, held_twin))
    segments.run_segment(deps, message, paused)
    assert segments_of(deps, task.id)[0].state == LeaseState.RUNNING  # A's commit refused
    speech.pace = 1.0
    twin_may_finish.set()
    twin.join(10)
    assert segments_of(deps, task.id)[0].state == LeaseState.DONE
    done, script = _finish_dubbing(deps, task.id)
    _assert_script_describes_its_audio(deps, done, script)


@pytest.mark.parametrize("error", [RetryableError("A's upstream 503"), LlmError("A refused")])
def test_a_stale_segment_workers_error_neither_requeues_the_twins_segment_nor_fails_the_task(
    planned: tuple[Deps, Task], error: Exception,
):
    deps, task = planned
    message = segment_message(deps, task.id, 0)
    plan = task.progress.plan  # type: ignore[union-attr]

    def paused_then_fails(ctx: SegmentContext) -> SegmentOutput:
        _clock(deps).advance(deps.settings.segment_lease_seconds + 1)
        # Twin B takes the segment (the watchdog republished it) and is still running...
        deps.segments.update(task.id, plan, 0, lambda s: s.claimed(
            "attempt-b", deps.clock(), timedelta(minutes=5)))
        raise error  # ...when A's error arrives

    with captured() as logs:
        assert segments.run_segment(deps, message, paused_then_fails) == SegmentClaim.RUN
    segment = segments_of(deps, task.id)[0]
    assert segment.state == LeaseState.RUNNING and segment.attempt == "attempt-b"
    assert segment.last_error is None
    assert _task(deps, task.id).status == TaskStatus.RUNNING
    assert any("stale attempt" in line["message"] for line in logs)


# --- 2. stale stage attempts ------------------------------------------------------------------

class Narrating:
    """A narration handler that writes `take` and reports usage; `during` runs mid-stage."""

    def __init__(self, take: bytes, during: Any = None, error: Exception | None = None) -> None:
        self.take, self.during, self.error = take, during, error

    def __call__(self, ctx: StageContext) -> StageOutput:
        ctx.spent.add(Usage(llm_calls=1))  # a model call, metered as it returns
        if self.during is not None:
            self.during()
        if self.error is not None:
            raise self.error
        path = ctx.files.write("narration.json", self.take, "application/json")
        return StageOutput(NarrationResult(output_file_path=path, snippets=1, engine="test"))


def _deadline_then_resume(deps: Deps, task_id: str) -> None:
    """The deadline fails the task mid-stage (its worker paused past its lease); `vss run`
    resumes it."""
    _clock(deps).advance(deps.settings.task_deadline_seconds + 1)
    assert stages.check_deadline(deps, task_id) is True
    resume.resume_task(deps, "t1", task_id)


def test_a_stale_stage_attempt_finishing_after_a_resume_is_dropped_and_charged(
    deps: Deps, blueprint_bytes: bytes,
):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)

    def meanwhile() -> None:
        _deadline_then_resume(deps, task.id)
        b = Narrating(b'{"take": "B"}')
        assert stages.run_stage(deps, message, {Stage.NARRATION: b}) == StageClaim.RUN

    with captured() as logs:
        stages.run_stage(deps, message, {Stage.NARRATION: Narrating(b'{"take": "A"}',
                                                                    during=meanwhile)})
    assert any("stale attempt, its output dropped" in line["message"] for line in logs)
    done = _task(deps, task.id)
    assert done.status == TaskStatus.COMPLETED and done.main_result is not None
    assert _read(deps, done, done.main_result.output_file_path) == b'{"take": "B"}'
    _assert_published_bytes_match_the_results(deps, done)
    assert done.usage.llm_calls == 2  # B's, and the stale A's: both were paid for
    assert [e.code for e in done.errors] == [2004] and done.error is None


@pytest.mark.parametrize("error", [RetryableError("A's upstream 503"), LlmError("A refused")])
def test_a_stale_stage_attempts_error_neither_releases_nor_fails_the_resumed_task(
    deps: Deps, blueprint_bytes: bytes, error: Exception,
):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    seen: list[Task] = []

    def meanwhile() -> None:
        _deadline_then_resume(deps, task.id)
        # B claims the stage and is still running when A's error arrives.
        deps.tasks.update(task.id, lambda t: stages.rules.claim(
            t, Stage.NARRATION, "attempt-b", deps.clock(), timedelta(minutes=5)))
        seen.append(_task(deps, task.id))

    stages.run_stage(deps, message, {Stage.NARRATION: Narrating(b"{}", meanwhile, error)})
    after = _task(deps, task.id)
    assert after.status == TaskStatus.RUNNING and after.current == seen[0].current
    assert after.current.attempt == "attempt-b" and after.current.state == LeaseState.RUNNING
    assert after.usage.llm_calls == 1  # A's spending, charged


def test_resume_never_takes_over_a_live_attempt(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    assert isinstance(deps.publisher, FakePublisher)

    def meanwhile() -> None:
        # The deadline fails the task while A is alive (its lease renewed), then a resume.
        live = _task(deps, task.id).current
        deps.tasks.update(task.id, lambda t: t.model_copy(update={
            "deadline_at": deps.clock() - timedelta(seconds=1)}))
        assert stages.check_deadline(deps, task.id) is True
        published = len(deps.publisher.published)
        resumed = resume.resume_task(deps, "t1", task.id)
        assert resumed.current == live  # A keeps the stage
        assert len(deps.publisher.published) == published  # no twin invited
        with pytest.raises(RetryableError):  # a stray message is sent back
            stages.run_stage(deps, message, {Stage.NARRATION: Narrating(b"twin")})

    stages.run_stage(deps, message, {Stage.NARRATION: Narrating(b'{"a": 1}', meanwhile)})
    done = _task(deps, task.id)
    assert done.status == TaskStatus.COMPLETED and done.current.attempts == 1
    assert done.main_result is not None
    assert _read(deps, done, done.main_result.output_file_path) == b'{"a": 1}'


def test_resume_keeps_segments_that_are_running_under_a_live_lease(
    planned: tuple[Deps, Task],
):
    deps, task = planned
    real = deps.segment_handler
    assert real is not None
    message = segment_message(deps, task.id, 0)

    def meanwhile(ctx: SegmentContext) -> SegmentOutput:
        assert segments.on_dead_segment(deps, segment_message(deps, task.id, 1)) is True
        resume.resume_task(deps, "t1", task.id)
        running = segments_of(deps, task.id)[0]
        assert running.state == LeaseState.RUNNING and running.attempts == 1
        return real(ctx)

    assert segments.run_segment(deps, message, meanwhile) == SegmentClaim.RUN
    assert segments_of(deps, task.id)[0].state == LeaseState.DONE
    done, script = _finish_dubbing(deps, task.id)
    _assert_script_describes_its_audio(deps, done, script)
    assert [e.details["segment"] for e in done.errors] == [1]


# --- 3. resuming a task that failed while it waited on an upload ----------------------------

def _signed_upload(deps: Deps) -> str:
    signed = uploads.request_signed_upload(deps, "t1", uploads.SignedUploadRequest(
        filename="blueprint.json", size=10))
    return signed.relative_path


def _land(deps: Deps, path: str, data: bytes) -> None:
    bucket, blob = deps.settings.uploads_bucket, f"tenants/t1/{path}"
    generation = deps.blobs.write(bucket, blob, data, "application/json")
    deps.files.update(path.split("/")[1], lambda r: r.model_copy(update={"declared_size": None}))
    uploads.check_landed_object(deps, bucket, blob, generation)


def test_a_task_that_timed_out_waiting_on_an_upload_runs_when_resumed(
    deps: Deps, blueprint_bytes: bytes,
):
    path = _signed_upload(deps)
    task = narration_task(deps, path)
    assert task.waiting_on
    _clock(deps).advance(deps.settings.task_deadline_seconds + 1)
    assert stages.check_deadline(deps, task.id) is True
    _land(deps, path, blueprint_bytes)  # the upload lands after the deadline
    resumed = resume.resume_task(deps, "t1", task.id)
    assert resumed.waiting_on == [] and resumed.status == TaskStatus.RUNNING
    deliver_published(deps)
    assert _task(deps, task.id).status == TaskStatus.COMPLETED


def test_resuming_a_task_whose_upload_is_still_missing_waits_for_it(
    deps: Deps, blueprint_bytes: bytes,
):
    path = _signed_upload(deps)
    task = narration_task(deps, path)
    _clock(deps).advance(deps.settings.task_deadline_seconds + 1)
    stages.check_deadline(deps, task.id)
    resumed = resume.resume_task(deps, "t1", task.id)
    assert resumed.status == TaskStatus.PENDING and resumed.waiting_on == [path.split("/")[1]]
    assert resumed.deadline_at > deps.clock()  # a fresh deadline
    _land(deps, path, blueprint_bytes)  # its check starts the task
    deliver_published(deps)
    assert _task(deps, task.id).status == TaskStatus.COMPLETED


def test_resuming_a_task_whose_upload_is_invalid_fails_at_once_with_the_inputs_error(
    deps: Deps,
):
    path = _signed_upload(deps)
    task = narration_task(deps, path)
    _clock(deps).advance(deps.settings.task_deadline_seconds + 1)
    stages.check_deadline(deps, task.id)
    _land(deps, path, b'{"not": "a dataset"}')
    with pytest.raises(PayloadInvalid) as caught:
        resume.resume_task(deps, "t1", task.id)
    assert caught.value.http_status == 422
    failed = _task(deps, task.id)
    assert failed.status == TaskStatus.FAILED and failed.error is not None
    assert failed.error.code == PayloadInvalid.code and failed.error.details["path"] == path
    assert [e.code for e in failed.errors] == [2004, PayloadInvalid.code]
    record = deps.files.get(path.split("/")[1])
    assert record is not None and record.status == FileStatus.INVALID


# --- 4. the deadline check and the watchdog ---------------------------------------------------

def test_a_stage_message_that_was_lost_is_published_again_by_the_watchdog(
    deps: Deps, blueprint_bytes: bytes,
):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    assert isinstance(deps.publisher, FakePublisher)
    deps.publisher.published.clear()  # the stage message was lost (or never published)
    _clock(deps).advance(deps.settings.watchdog_seconds)
    assert stages.check_deadline(deps, task.id) is False
    deliver_published(deps)
    assert _task(deps, task.id).status == TaskStatus.COMPLETED


def test_a_check_that_comes_early_schedules_its_successor(deps: Deps, blueprint_bytes: bytes):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    scheduled = deps.deadlines.scheduled  # type: ignore[attr-defined]
    before = len(scheduled)
    assert stages.check_deadline(deps, task.id) is False
    assert len(scheduled) == before + 1 and scheduled[-1][1] <= task.deadline_at


def test_a_stage_whose_worker_died_is_republished_once_its_lease_ran_out(
    deps: Deps, blueprint_bytes: bytes,
):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    deps.tasks.update(task.id, lambda t: stages.rules.claim(
        t, Stage.NARRATION, "dead", deps.clock(), timedelta(seconds=30)))
    assert isinstance(deps.publisher, FakePublisher)
    deps.publisher.published.clear()
    _clock(deps).advance(max(31, deps.settings.watchdog_seconds))
    stages.check_deadline(deps, task.id)
    deliver_published(deps)
    done = _task(deps, task.id)
    assert done.status == TaskStatus.COMPLETED and done.current.attempts == 2


# --- 6. usage of a stale attempt ---------------------------------------------------------------

def test_an_attempt_that_finishes_after_its_task_failed_is_still_charged(
    deps: Deps, blueprint_bytes: bytes,
):
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)

    def canceled_meanwhile() -> None:
        tasks.cancel_task(deps, "t1", task.id)

    stages.run_stage(deps, message, {Stage.NARRATION: Narrating(b"{}", canceled_meanwhile)})
    after = _task(deps, task.id)
    assert after.status == TaskStatus.CANCELED and after.results == {}
    assert after.usage == Usage(llm_calls=1)
