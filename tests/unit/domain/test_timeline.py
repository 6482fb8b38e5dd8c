"""A task's timeline: what happened to each stage and attempt, for the operator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vss.domain import tasks as rules
from vss.domain.failures import TaskError
from vss.domain.results import DubbingPlanResult, DubbingResult, NarrationResult
from vss.domain.tasks import Stage, StageEventKind, TaskType
from vss.domain.usage import NO_USAGE

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _at(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


def _events(task: rules.Task) -> list[tuple[str, str, str | None, int | None]]:
    return [(e.stage.value, e.kind.value, e.attempt, e.code) for e in task.timeline]


def test_a_retried_then_resumed_dubbing_task_shows_every_step_in_order():
    task = rules.new_task(task_id="t", tenant_id="x", task_type=TaskType.GENERATE_DUBBING,
                          payload={}, waiting_on=[], now=NOW, deadline=timedelta(minutes=5))
    task = rules.claim(task, Stage.DUBBING, "a1", _at(1), LEASE)
    task = rules.release(task, Stage.DUBBING, "a1", TaskError(code=5000, message="busy"), _at(2))
    task = rules.claim(task, Stage.DUBBING, "a2", _at(3), LEASE)
    plan = DubbingPlanResult(output_file_path="tasks/t/plan.json", segments=2)
    task = rules.finish_stage(task, Stage.DUBBING, "a2", plan, NO_USAGE, _at(4), fan_out=2)
    task = rules.fail(task, TaskError(code=2004, message="deadline"), _at(5))
    task = rules.resume(task, _at(6), timedelta(minutes=5), [])
    task = rules.start_when_fanned_in(task, "a2", 2, NO_USAGE, _at(7))
    task = rules.claim(task, Stage.DUBBING_ASSEMBLY, "b1", _at(8), LEASE)
    done = DubbingResult(output_file_path="tasks/t/d.json", segments=2, total_duration=3.0,
                         engine="espeak-ng")
    task = rules.finish_stage(task, Stage.DUBBING_ASSEMBLY, "b1", done, NO_USAGE, _at(9))

    assert _events(task) == [
        ("dubbing", "queued", None, None),
        ("dubbing", "claimed", "a1", None),
        ("dubbing", "released", "a1", 5000),
        ("dubbing", "claimed", "a2", None),
        ("dubbing", "finished", "a2", None),
        ("dubbing_assembly", "waiting", None, None),
        ("dubbing_assembly", "failed", None, 2004),
        ("dubbing_assembly", "resumed", None, None),
        ("dubbing_assembly", "queued", None, None),
        ("dubbing_assembly", "claimed", "b1", None),
        ("dubbing_assembly", "finished", "b1", None),
    ]
    assert [e.at for e in task.timeline] == [_at(s) for s in (0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9)]


def test_a_stale_attempt_leaves_no_event_and_a_failed_attempt_names_itself():
    task = rules.new_task(task_id="t", tenant_id="x", task_type=TaskType.GENERATE_NARRATION,
                          payload={}, waiting_on=[], now=NOW, deadline=timedelta(minutes=5))
    task = rules.claim(task, Stage.NARRATION, "a1", _at(1), LEASE)
    task = rules.claim(task, Stage.NARRATION, "a2", _at(70), LEASE)  # a1's lease ran out
    result = NarrationResult(output_file_path="tasks/t/n.json", snippets=1, engine="offline")
    stale = rules.finish_stage(task, Stage.NARRATION, "a1", result, NO_USAGE, _at(71))
    assert stale.timeline == task.timeline
    failed = rules.fail_attempt(task, Stage.NARRATION, "a2",
                                TaskError(code=3001, message="bad"), _at(72))
    assert _events(failed)[-1] == ("narration", "failed", "a2", 3001)
    assert _events(rules.cancel(task, _at(73)))[-1] == ("narration", "canceled", None, None)


def test_the_timeline_keeps_only_the_latest_events():
    task = rules.new_task(task_id="t", tenant_id="x", task_type=TaskType.GENERATE_NARRATION,
                          payload={}, waiting_on=[], now=NOW, deadline=timedelta(minutes=5))
    for second in range(rules.TIMELINE_LIMIT):
        task = rules.claim(task, Stage.NARRATION, f"a{second}", _at(second * 100), LEASE)
    assert len(task.timeline) == rules.TIMELINE_LIMIT
    assert task.timeline[0].kind == StageEventKind.CLAIMED  # the creation fell off
    assert task.timeline[-1].attempt == f"a{rules.TIMELINE_LIMIT - 1}"
