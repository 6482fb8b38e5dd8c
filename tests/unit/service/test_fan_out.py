"""The dubbing fan-out on fakes: one message per segment, each retried alone, counted once,
and the last one to finish starting the assembly exactly once."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.support.fake_audio import RecordingSpeechEngine
from tests.support.fakes import (
    FakeClock,
    FakePublisher,
    FakeScheduler,
    fake_deps,
)
from tests.support.tasks import (
    deliver_published,
    segment_message,
    segments_of,
)
from vss.api.views import TaskView
from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.messages import StageMessage
from vss.domain.segments import SegmentClaim
from vss.domain.tasks import PROGRESS_EVERY, Stage, StageClaim, Task, TaskStatus
from vss.errors import BadRequest, RetryableError, StageBusy, TtsError
from vss.service import segments, stages, tasks


def _messages(deps: Deps, topic: str) -> list[dict[str, Any]]:
    assert isinstance(deps.publisher, FakePublisher)
    return [json.loads(data) for t, data, _ in deps.publisher.published if t == topic]


def _spoken(speech: RecordingSpeechEngine) -> list[str]:
    return [request.text for request in speech.requests]


def _task(deps: Deps, task_id: str) -> Task:
    task = deps.tasks.get(task_id)
    assert task is not None
    return task


def test_the_plan_fans_out_one_message_per_segment_and_the_task_shows_progress(planned, speech):
    deps, task = planned
    sent = _messages(deps, deps.settings.segments_topic)
    assert task.progress is not None and task.progress.total == len(sent) > 3
    plan = task.progress.plan
    assert sent == [{"task_id": task.id, "plan": plan, "index": i} for i in range(len(sent))]
    assert task.current.stage == Stage.DUBBING_ASSEMBLY and task.current.state == "waiting"
    view = TaskView.of(task, "http://x").model_dump(mode="json")
    assert view["status"] == "RUNNING" and view["progress"] == {
        "stage": "dubbing_assembly", "done": 0, "total": len(sent)}
    assert speech.requests == []  # nothing spoken by the planner


def _done(deps: Deps, task: Task) -> int:
    """The segments done, counted from their documents as the fan-in counts them."""
    assert task.progress is not None
    return deps.segments.count_done(task.id, task.progress.plan)


def _clock(deps: Deps) -> FakeClock:
    assert isinstance(deps.clock, FakeClock)
    return deps.clock


def test_the_last_segment_starts_the_assembly_exactly_once(planned, speech):
    deps, task = planned
    total = task.progress.total if task.progress else 0
    for index in range(total):
        _clock(deps).advance(PROGRESS_EVERY.total_seconds())
        assert segments.run_segment(deps, segment_message(deps, task.id, index)) \
            == SegmentClaim.RUN
        progress = _task(deps, task.id).progress
        assert progress is not None and progress.done == index + 1
    assembly = [m for m in _messages(deps, deps.settings.stages_topic)
                if m["stage"] == "dubbing_assembly"]
    assert assembly == [{"task_id": task.id, "stage": "dubbing_assembly"}]
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.DUBBING_ASSEMBLY))
    done = _task(deps, task.id)
    assert done.status == TaskStatus.COMPLETED and done.main_result is not None
    assert done.main_result.output_file_path.endswith("dubbing_script.json")
    assert done.spent.tts_characters == sum(len(t) for t in _spoken(speech))
    assert TaskView.of(done, "http://x").usage == done.spent


def test_segments_finishing_together_write_the_task_once_a_second_and_fan_in_once(
        planned, speech):
    deps, task = planned
    total = task.progress.total if task.progress else 0
    writes = []
    update = deps.tasks.update

    def counting(task_id, change):  # type: ignore[no-untyped-def]
        before, after = update(task_id, change)
        writes.extend([after] if after is not before else [])
        return before, after

    deps.tasks.update = counting  # type: ignore[method-assign]
    for index in range(total):  # all within one second
        segments.run_segment(deps, segment_message(deps, task.id, index))
    shown = [w.progress.done for w in writes if w.progress and w.current.state == "waiting"]
    assert shown == [1]  # the first count; the rest waited for the next second
    started = [w for w in writes if w.current.state == "queued"]
    assert len(started) == 1 and started[0].progress is not None
    assert started[0].progress.done == total
    assert started[0].spent.tts_characters == sum(len(t) for t in _spoken(speech)) > 0


def test_only_a_count_at_a_milestone_or_the_total_reads_the_task_again(
        planned, speech, monkeypatch):
    deps, task = planned
    total = task.progress.total if task.progress else 0
    assert total >= 3
    monkeypatch.setattr(rules, "PROGRESS_STEPS", 1)  # the one milestone is the total
    reads = Counter[str]()
    get, together = deps.tasks.get, deps.segments.task_and_segment

    def counting(task_id):  # type: ignore[no-untyped-def]
        reads["task"] += 1
        return get(task_id)

    def counting_together(task_id, plan, index):  # type: ignore[no-untyped-def]
        reads["task and segment"] += 1
        return together(task_id, plan, index)

    messages = [segment_message(deps, task.id, index) for index in range(total)]
    deps.tasks.get = counting  # type: ignore[method-assign]
    deps.segments.task_and_segment = counting_together  # type: ignore[method-assign]
    for message in messages[:-1]:
        _clock(deps).advance(PROGRESS_EVERY.total_seconds())
        segments.run_segment(deps, message)
    # Each segment read its task with its segment before its claim, and nothing after.
    assert reads == {"task and segment": total - 1}
    progress = _task(deps, task.id).progress
    assert progress is not None and progress.done == 0  # no count was at a milestone
    segments.run_segment(deps, messages[-1])
    assert reads["task and segment"] == total and reads["task"] >= 1  # the last: the fan-in
    assert _task(deps, task.id).current.state == "queued"


def test_the_last_segment_starts_the_stage_whether_or_not_its_count_is_a_milestone(
        planned, speech, monkeypatch):
    # A total need not be a milestone (59 counted in steps of 2): the complete count must
    # read the task whatever the milestones say, or the task waits for its deadline.
    deps, task = planned
    total = task.progress.total if task.progress else 0
    monkeypatch.setattr(rules, "progress_milestone", lambda done, total: False)
    for index in range(total):
        segments.run_segment(deps, segment_message(deps, task.id, index))
    assert _task(deps, task.id).current.state == "queued"


def test_a_fan_in_told_of_an_earlier_plan_counts_the_plan_the_task_waits_on(
        planned, speech, monkeypatch):
    # A worker's task, read before its segment, may be of a plan since replaced: its count
    # of that plan decides nothing, and the fan-in counts the current one.
    deps, task = planned
    assert task.progress is not None
    total = task.progress.total
    monkeypatch.setattr(segments, "fan_in", lambda *args, **kwargs: None)
    for index in range(total):
        segments.run_segment(deps, segment_message(deps, task.id, index))
    monkeypatch.undo()
    assert _task(deps, task.id).current.state == "waiting"
    earlier = task.model_copy(update={"progress": task.progress.model_copy(
        update={"plan": "an-earlier-plan"})})
    segments.fan_in(deps, task.id, known_task=earlier)
    assert _task(deps, task.id).current.state == "queued"


@pytest.mark.parametrize("field", ["task_id", "plan"])
def test_a_segment_message_naming_no_possible_task_or_plan_is_dropped_unread(
        planned, speech, field):
    deps, task = planned
    message = segment_message(deps, task.id, 0).model_copy(update={field: "../elsewhere"})
    deps.segments.task_and_segment = None  # type: ignore[assignment,method-assign]
    assert segments.run_segment(deps, message) == SegmentClaim.UNKNOWN
    assert speech.requests == []


def test_duplicate_segment_messages_never_count_twice_nor_speak_again(planned, speech):
    deps, task = planned
    message = segment_message(deps, task.id, 0)
    assert segments.run_segment(deps, message) == SegmentClaim.RUN
    assert segments.run_segment(deps, message) == SegmentClaim.DONE_ALREADY
    assert len(speech.requests) == 1
    assert _done(deps, task) == 1


def test_a_failing_segment_is_retried_alone(planned, speech):
    deps, task = planned
    text = segments_of(deps, task.id)[2].request["text"]
    speech.failures[text] = [RetryableError("503 from TTS"), RetryableError("429")]
    deliver_published(deps, start=1)  # after the dubbing stage's own message: segment 2 fails
    after = _task(deps, task.id)
    assert after.progress is not None and _done(deps, task) == after.progress.total - 1
    retried = segment_message(deps, task.id, 2)
    with pytest.raises(RetryableError):
        segments.run_segment(deps, retried)  # the redelivery fails again
    assert segments.run_segment(deps, retried) == SegmentClaim.RUN
    spoken = Counter(_spoken(speech))
    assert spoken.pop(text) == 3 and set(spoken.values()) == {1}  # the others spoke once
    deliver_published(deps, start=len(deps.publisher.published) - 1)  # type: ignore[attr-defined]
    assert _task(deps, task.id).status == TaskStatus.COMPLETED


def test_a_segment_that_exhausts_its_attempts_fails_the_task_naming_it(planned, speech):
    deps, task = planned
    message = segment_message(deps, task.id, 1)
    request = segments_of(deps, task.id)[1].request
    speech.failures[request["text"]] = [RetryableError("503")] * 10
    for _ in range(deps.settings.segment_max_attempts):
        with pytest.raises(RetryableError):
            segments.run_segment(deps, message)
    assert segments.run_segment(deps, message) == SegmentClaim.EXHAUSTED
    failed = _task(deps, task.id)
    assert failed.status == TaskStatus.FAILED and failed.error is not None
    assert failed.error.details["segment"] == 1
    assert failed.error.message.startswith("Segment 1 failed after 5 attempts: 503")


def test_a_permanent_tts_error_fails_the_task_at_once_naming_the_segment(planned, speech):
    deps, task = planned
    request = segments_of(deps, task.id)[3].request
    # Its first spoken part: a segment with a quoted line is spoken part by part.
    speech.failures[request["parts"][0]["text"]] = [TtsError("voice refused the text")]
    segments.run_segment(deps, segment_message(deps, task.id, 3))
    failed = _task(deps, task.id)
    assert failed.status == TaskStatus.FAILED and failed.error is not None
    assert failed.error.code == TtsError.code and failed.error.details["segment"] == 3
    assert "Segment 3" in failed.error.message
    # Later segments of a failed task are dropped unspoken.
    before = len(speech.requests)
    assert segments.run_segment(deps, segment_message(deps, task.id, 4)) \
        == SegmentClaim.CLOSED
    assert len(speech.requests) == before


def test_a_dead_workers_segment_is_retaken_after_its_lease(planned):
    deps, task = planned
    lease = deps.settings.segment_lease_seconds
    # A worker claims segment 0 and dies before finishing.
    deps.segments.update(task.id, task.progress.plan, 0, lambda s: s.model_copy(update={
        "state": "running", "attempts": 1, "lease_until": deps.clock() + _seconds(lease)}))
    with pytest.raises(StageBusy):
        segments.run_segment(deps, segment_message(deps, task.id, 0))
    clock = deps.clock
    assert isinstance(clock, FakeClock)
    clock.advance(lease + 1)
    assert segments.run_segment(deps, segment_message(deps, task.id, 0)) \
        == SegmentClaim.RUN
    assert segments_of(deps, task.id)[0].attempts == 2


def test_a_dead_lettered_segment_fails_the_task_naming_it(planned):
    deps, task = planned
    assert segments.on_dead_segment(deps, segment_message(deps, task.id, 2)) is True
    failed = _task(deps, task.id)
    assert failed.status == TaskStatus.FAILED and failed.error is not None
    assert failed.error.details["segment"] == 2


def test_a_lost_fan_out_is_published_again_by_the_redelivered_stage_message(planned):
    deps, task = planned
    assert isinstance(deps.publisher, FakePublisher)
    deps.publisher.published.clear()  # as if the worker died before publishing
    claim = stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.DUBBING))
    assert claim == StageClaim.DONE_ALREADY
    assert len(_messages(deps, deps.settings.segments_topic)) == task.progress.total  # type: ignore[union-attr]


def test_cancel_during_the_fan_out_drops_the_remaining_segments(planned, speech):
    deps, task = planned
    tasks.cancel_task(deps, "t1", task.id)
    assert segments.run_segment(deps, segment_message(deps, task.id, 0)) \
        == SegmentClaim.CLOSED
    assert speech.requests == []


def _seconds(n: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=n)


def test_the_deadline_check_watches_a_fan_out_and_republishes_stalled_segments(planned):
    deps, task = planned
    scheduler = deps.deadlines
    assert isinstance(scheduler, FakeScheduler)
    watchdog = _seconds(deps.settings.watchdog_seconds)
    assert scheduler.scheduled[-1] == (task.id, deps.clock() + watchdog)
    segments.run_segment(deps, segment_message(deps, task.id, 0))
    # Segment 1's worker died; the others' messages were lost on the way.
    deps.segments.update(task.id, task.progress.plan, 1, lambda s: s.model_copy(update={
        "state": "running", "attempts": 1, "lease_until": deps.clock() + _seconds(5)}))
    assert isinstance(deps.publisher, FakePublisher)
    deps.publisher.published.clear()
    clock = deps.clock
    assert isinstance(clock, FakeClock)
    clock.advance(deps.settings.watchdog_seconds)
    assert stages.check_deadline(deps, task.id) is False
    republished = [m["index"] for m in _messages(deps, deps.settings.segments_topic)]
    total = task.progress.total if task.progress else 0
    assert republished == list(range(1, total))  # not the finished one
    assert scheduler.scheduled[-1] == (task.id, deps.clock() + watchdog)


def test_an_unknown_voice_template_is_a_400_listing_the_known_ones(narration_path):
    shared, path = narration_path
    deps = fake_deps()
    deps.blobs = shared.blobs
    with pytest.raises(BadRequest) as caught:
        tasks.create_task(deps, "t1", tasks.CreateTask(
            task_type="GENERATE_DUBBING", payload={
                "input_narration_path": path, "service_params": {"template_name": "demo"}}))
    assert caught.value.details["errors"][0]["pointer"] == "/payload/service_params/template_name"
    assert "chinese_gemini_emotional" in caught.value.details["known"]
