"""The dead_letter function's work on fakes: every dead letter is recorded once per message,
then its task failed (a storage event is dropped)."""

from __future__ import annotations

from datetime import timedelta

from tests.support.fakes import FakeDeadLetterLog, fake_deps
from tests.support.logs import captured
from tests.support.tasks import segment_message
from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.dead_letters import (
    RETENTION,
    SOURCE_DELIVERY_COUNT,
    SOURCE_SUBSCRIPTION,
    DeadLetter,
    DeadLetterKind,
    Delivery,
)
from vss.domain.messages import StageMessage, StorageNotification
from vss.domain.tasks import Stage, Task, TaskStatus, TaskType
from vss.service import dead_letters


def _letters(deps: Deps) -> list[DeadLetter]:
    assert isinstance(deps.dead_letters, FakeDeadLetterLog)
    return list(deps.dead_letters.letters.values())


def _task(deps: Deps, task_id: str = "task1", tenant: str = "t_a") -> Task:
    task = rules.new_task(task_id=task_id, tenant_id=tenant,
                          task_type=TaskType.GENERATE_NARRATION, payload={}, waiting_on=[],
                          now=deps.clock(), deadline=timedelta(hours=1))
    deps.tasks.add(task)
    return task


def _delivery(message_id: str, **attributes: str) -> Delivery:
    return Delivery(message_id, {SOURCE_SUBSCRIPTION: "vss-stages-push",
                                 SOURCE_DELIVERY_COUNT: "8", **attributes})


def test_a_dead_stage_message_is_recorded_and_fails_its_task() -> None:
    deps = fake_deps()
    _task(deps)
    message = StageMessage(task_id="task1", stage=Stage.NARRATION)

    assert dead_letters.on_dead_letter(deps, _delivery("41", trace="abc"), message) is True

    [letter] = _letters(deps)
    assert (letter.kind, letter.task_id, letter.tenant_id) == (DeadLetterKind.STAGE, "task1", "t_a")
    assert (letter.message_id, letter.subscription, letter.delivery_attempts) == (
        "41", "vss-stages-push", 8)
    assert letter.details == {"stage": "narration"} and letter.attributes["trace"] == "abc"
    assert letter.received_at == deps.clock() and letter.expire_at == deps.clock() + RETENTION
    failed = deps.tasks.get("task1")
    assert failed is not None and failed.status == TaskStatus.FAILED


def test_a_redelivered_dead_letter_is_recorded_once() -> None:
    deps = fake_deps()
    _task(deps)
    message = StageMessage(task_id="task1", stage=Stage.NARRATION)
    dead_letters.on_dead_letter(deps, _delivery("41"), message)
    deps.clock.advance(60)  # type: ignore[attr-defined]

    with captured() as lines:
        assert dead_letters.on_dead_letter(deps, _delivery("41"), message) is False

    [letter] = _letters(deps)
    assert letter.received_at == deps.clock() - timedelta(seconds=60)  # the first one kept
    assert any(x["message"] == "dead letter recorded already (a redelivery)" for x in lines)
    # Another message, even with the same content, is another dead letter.
    dead_letters.on_dead_letter(deps, _delivery("42"), message)
    assert len(_letters(deps)) == 2


def test_a_dead_letter_of_a_missing_task_is_still_recorded() -> None:
    deps = fake_deps()
    message = StageMessage(task_id="gone", stage=Stage.NARRATION)
    assert dead_letters.on_dead_letter(deps, Delivery("7"), message) is False
    [letter] = _letters(deps)
    assert (letter.task_id, letter.tenant_id, letter.subscription, letter.delivery_attempts) \
        == ("gone", None, None, None)


def test_a_dead_segment_message_is_recorded_and_fails_its_task(planned) -> None:
    deps, task = planned
    message = segment_message(deps, task.id, 2)

    assert dead_letters.on_dead_letter(
        deps, _delivery("9", **{SOURCE_SUBSCRIPTION: "vss-segments-push"}), message) is True

    [letter] = _letters(deps)
    assert (letter.kind, letter.task_id, letter.tenant_id, letter.subscription) == (
        DeadLetterKind.SEGMENT, task.id, task.tenant_id, "vss-segments-push")
    assert letter.details == {"plan": message.plan, "index": "2"}
    failed = deps.tasks.get(task.id)
    assert failed is not None and failed.status == TaskStatus.FAILED


def test_a_dead_storage_event_is_recorded_and_dropped() -> None:
    deps = fake_deps()
    bucket = deps.settings.uploads_bucket
    event = StorageNotification(bucket=bucket, name="tenants/t_b/uploads/f1/poison.json",
                                event_type="OBJECT_FINALIZE")

    with captured() as lines:
        assert dead_letters.on_dead_letter(deps, Delivery("5", {"bucketId": bucket}),
                                           event) is False

    [letter] = _letters(deps)
    assert (letter.kind, letter.task_id, letter.tenant_id) == (DeadLetterKind.STORAGE, None, "t_b")
    assert letter.object_name == f"gs://{bucket}/tenants/t_b/uploads/f1/poison.json"
    assert letter.details == {"event_type": "OBJECT_FINALIZE"}
    assert [x["severity"] for x in lines] == ["ERROR"]


def test_kinds_do_not_share_ids() -> None:
    """Each dead-letter topic numbers its messages on its own: the same id on two is two."""
    deps = fake_deps()
    dead_letters.on_dead_letter(deps, Delivery("1"), StageMessage(task_id="x", stage="narration"))
    dead_letters.on_dead_letter(deps, Delivery("1"), StorageNotification(bucket="b", name="n"))
    assert {x.kind for x in _letters(deps)} == {DeadLetterKind.STAGE, DeadLetterKind.STORAGE}
