"""The fan-out's rules that keep the task's document cool: when the watchdog may republish
segments, when a count is worth a write of the task, and the fan-in with what the segments
spent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from vss.domain import tasks as rules
from vss.domain.leases import LeaseState
from vss.domain.results import DubbingPlanResult
from vss.domain.segments import Segment, stalled_segments
from vss.domain.tasks import PROGRESS_EVERY, Stage, TaskType
from vss.domain.usage import NO_USAGE, Usage

NOW = datetime(2026, 1, 1, tzinfo=UTC)
IDLE = timedelta(seconds=300)
LEASE = timedelta(seconds=60)


def _segment(index: int, **state: object) -> Segment:
    return Segment(task_id="t", index=index, request={}).model_copy(update=state)


def test_queued_segments_are_not_republished_while_the_fan_out_moves():
    queued = [_segment(i) for i in range(3)]
    running = _segment(3).claimed("a", NOW - timedelta(seconds=5), LEASE)
    assert stalled_segments([*queued, running], NOW, IDLE) == []  # waiting in the backlog
    just_done = _segment(3, state=LeaseState.DONE, finished_at=NOW - timedelta(seconds=10))
    assert stalled_segments([*queued, just_done], NOW, IDLE) == []


def test_a_fan_out_that_stood_still_republishes_what_nobody_works_on():
    queued = [_segment(i) for i in range(2)]
    lost_lease = _segment(2).claimed("a", NOW - timedelta(hours=1), LEASE)
    long_done = _segment(3, state=LeaseState.DONE, finished_at=NOW - 2 * IDLE)
    stalled = stalled_segments([*queued, lost_lease, long_done], NOW, IDLE)
    assert [s.index for s in stalled] == [0, 1, 2]


def _waiting_task(total: int = 4) -> rules.Task:
    task = rules.new_task(task_id="t", tenant_id="x", task_type=TaskType.GENERATE_DUBBING,
                          payload={}, waiting_on=[], now=NOW, deadline=timedelta(hours=1))
    task = rules.claim(task, Stage.DUBBING, "plan-a", NOW, LEASE)
    plan = DubbingPlanResult(output_file_path="tasks/t/plan.json", segments=total)
    return rules.finish_stage(task, Stage.DUBBING, "plan-a", plan, NO_USAGE, NOW,
                              fan_out=total)


def test_a_count_is_written_at_most_once_per_interval_and_only_when_it_grew():
    task = _waiting_task()
    assert rules.progress_due(task, "plan-a", 1, NOW)
    counted = rules.counted(task, "plan-a", 1, NOW)
    assert not rules.progress_due(counted, "plan-a", 2, NOW + PROGRESS_EVERY / 2)
    assert not rules.progress_due(counted, "plan-a", 1, NOW + PROGRESS_EVERY)  # no news
    assert rules.progress_due(counted, "plan-a", 2, NOW + PROGRESS_EVERY)
    assert not rules.progress_due(counted, "another-plan", 2, NOW + PROGRESS_EVERY)


def test_workers_look_at_the_task_for_a_note_at_every_twentieth_of_the_way():
    assert [done for done in range(1, 61) if rules.progress_milestone(done, 60)] \
        == list(range(3, 61, 3))
    assert [done for done in range(1, 201) if rules.progress_milestone(done, 200)] \
        == list(range(10, 201, 10))
    # A small fan-out notes every item.
    assert all(rules.progress_milestone(done, 39) for done in range(1, 40))
    # The total need not be one (59 in steps of 2): the fan-in reads the task on a complete
    # count whatever (tests/unit/service/test_fan_out.py).
    assert not rules.progress_milestone(59, 59)


def test_the_fan_in_starts_the_stage_once_with_what_the_segments_spent():
    task = _waiting_task(total=4)
    assert rules.start_when_fanned_in(task, "plan-a", 3, NO_USAGE, NOW) is task  # not all
    spent = Usage(tts_characters=40, cost_usd=0.01)
    started = rules.start_when_fanned_in(task, "plan-a", 4, spent, NOW)
    assert started.current.state == LeaseState.QUEUED
    assert started.progress is not None and started.progress.done == 4
    assert started.spent == task.usage + spent and started.usage == task.usage
    assert rules.start_when_fanned_in(started, "plan-a", 4, spent, NOW) is started  # once
    assert rules.start_when_fanned_in(task, "stale-plan", 4, spent, NOW) is task
