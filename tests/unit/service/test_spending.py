"""Every attempt's spend reaches its tenant's day in the usage ledger exactly once, on the UTC
day the attempt ended: a stage's model calls, a fan-out's speech, a failed attempt's calls;
never twice for a transaction run again, never for work that spent nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from tests.support.fakes import (
    FakeClock,
    FakeTaskRepository,
    FakeUsageLedger,
    ScriptedLlm,
    fake_deps,
    model_call,
)
from tests.support.logs import captured
from tests.support.tasks import (
    assert_ledger_holds_what_tasks_were_charged,
    deliver_published,
    narration_task,
    segment_message,
    valid_dataset,
)
from vss.deps import Deps
from vss.domain.messages import StageMessage
from vss.domain.results import NarrationResult
from vss.domain.segments import SegmentClaim
from vss.domain.tasks import Stage, Task, TaskStatus
from vss.domain.usage import TenantDay, Usage, utc_day
from vss.errors import LlmError, RateLimited, RetryableError, TtsError
from vss.ports import LlmResult
from vss.service import segments, stages, tasks
from vss.stage_handler import SegmentContext, SegmentOutput, StageContext, StageOutput

EVER = (date(2000, 1, 1), date(2100, 1, 1))  # every day the fake clock can reach


def _ledger(deps: Deps) -> FakeUsageLedger:
    assert isinstance(deps.usage, FakeUsageLedger)
    return deps.usage


def _task(deps: Deps, task_id: str) -> Task:
    task = deps.tasks.get(task_id)
    assert task is not None
    return task


def _today(deps: Deps) -> date:
    return utc_day(deps.clock())


def _not_json(system: str, prompt: str, schema: type) -> LlmResult:
    """A model whose answers never parse: every snippet falls back to the offline writer,
    every call (and its repair retry) is paid for."""
    return LlmResult(None, "not json", model_call(1000, 100, 0.01))


def test_a_narrations_model_calls_are_charged_to_its_tenants_day(blueprint_bytes: bytes):
    llm = ScriptedLlm(_not_json)
    deps = fake_deps(llm_for=lambda model: llm, narration_prompt_budget_tokens=2_000)
    path = valid_dataset(deps, blueprint_bytes, tenant="t_acme")
    task = narration_task(deps, path, tenant="t_acme")
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION))
    done = _task(deps, task.id)
    assert done.status == TaskStatus.COMPLETED and done.usage.llm_calls == len(llm.prompts) > 1
    assert deps.usage.days(_today(deps), _today(deps)) == [
        TenantDay(tenant_id="t_acme", day=_today(deps), usage=done.usage,
                  upload_bytes=len(blueprint_bytes))]  # the dataset's upload
    assert len(_ledger(deps).charges) == 1  # one attempt, one charge


def test_a_dubbing_fan_out_charges_each_segments_speech_to_the_tenants_day(
    planned: tuple[Deps, Task],
):
    deps, task = planned
    deliver_published(deps)
    done = _task(deps, task.id)
    assert done.status == TaskStatus.COMPLETED and done.progress is not None
    (day,) = deps.usage.days(_today(deps), _today(deps), task.tenant_id)
    assert day.usage.tts_characters == done.spent.tts_characters > 0
    speaking = [u for tenant, _, u in _ledger(deps).charges if u.tts_characters]
    assert len(speaking) == done.progress.total  # one charge per segment
    assert_ledger_holds_what_tasks_were_charged(deps)


def test_a_failed_attempts_spend_is_charged(blueprint_bytes: bytes):
    failures = iter([RateLimited("429 after retries"), LlmError("refused")])

    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        if "previous snippet ended" in prompt:  # the second chunk's call fails
            raise next(failures)
        return _not_json(system, prompt, schema)

    deps = fake_deps(llm_for=lambda model: ScriptedLlm(respond),
                     narration_prompt_budget_tokens=2_000)
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    with pytest.raises(RetryableError):
        stages.run_stage(deps, message)  # released: the first chunk's calls were paid for
    assert [u for _, _, u in _ledger(deps).charges] == [
        Usage(llm_input_tokens=2000, llm_output_tokens=200, llm_calls=2, cost_usd=0.02)]
    stages.run_stage(deps, message)  # failed for good: charged all the same
    failed = _task(deps, task.id)
    assert failed.status == TaskStatus.FAILED
    assert len(_ledger(deps).charges) == 2
    (day,) = deps.usage.days(_today(deps), _today(deps), "t1")
    assert day.usage.llm_calls == failed.usage.llm_calls == 4
    assert day.usage.cost_usd == pytest.approx(0.04)


class ConflictingTasks(FakeTaskRepository):
    """Every transaction loses its first commit to a concurrent writer and runs again, as a
    Firestore transaction retried after a conflict does."""

    def update(self, task_id: str, change: Callable[[Task], Task]) -> tuple[Task, Task]:
        stored = self.docs.get(task_id)
        if stored is not None:
            change(stored)  # the first run, whose commit lost: its result is discarded
        return super().update(task_id, change)


def test_a_stage_retried_after_a_transaction_conflict_is_charged_once(blueprint_bytes: bytes):
    llm = ScriptedLlm(_not_json)
    deps = fake_deps(llm_for=lambda model: llm, narration_prompt_budget_tokens=2_000)
    deps.tasks = ConflictingTasks()
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION))
    assert _task(deps, task.id).status == TaskStatus.COMPLETED
    assert [u.llm_calls for _, _, u in _ledger(deps).charges] == [len(llm.prompts)]
    assert_ledger_holds_what_tasks_were_charged(deps)


def _spending(usage: Usage, during: Callable[[], None]) -> Callable[[StageContext], StageOutput]:
    def handler(ctx: StageContext) -> StageOutput:
        ctx.spent.add(usage)
        during()
        path = ctx.files.write("narration.json", b"{}", "application/json")
        return StageOutput(NarrationResult(output_file_path=path, snippets=1, engine="test"))
    return handler


def test_an_attempt_is_charged_to_the_utc_day_it_ended_on(blueprint_bytes: bytes):
    deps = fake_deps()
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    clock = deps.clock
    assert isinstance(clock, FakeClock)
    clock.now = clock.now.replace(hour=23, minute=59, second=59)
    started = _today(deps)
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION), {
        Stage.NARRATION: _spending(Usage(llm_calls=1), lambda: clock.advance(2))})
    assert deps.usage.days(*EVER) == [
        TenantDay(tenant_id="t1", day=started, usage=Usage(), upload_bytes=len(blueprint_bytes)),
        TenantDay(tenant_id="t1", day=started + timedelta(days=1), usage=Usage(llm_calls=1))]


def test_work_that_spent_nothing_charges_nothing(blueprint_bytes: bytes):
    deps = fake_deps()  # no model configured: the offline writer spends nothing
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION))
    assert _task(deps, task.id).status == TaskStatus.COMPLETED
    assert _ledger(deps).charges == []


class BrokenLedger(FakeUsageLedger):
    def charge(self, *args: object) -> None:
        raise RetryableError("the ledger's database is unavailable")


def test_a_ledger_that_cannot_take_a_charge_fails_no_work(blueprint_bytes: bytes):
    deps = fake_deps()
    deps.usage = BrokenLedger()
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    with captured() as logs:
        stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION), {
            Stage.NARRATION: _spending(Usage(llm_calls=3), lambda: None)})
    done = _task(deps, task.id)
    assert done.status == TaskStatus.COMPLETED and done.usage == Usage(llm_calls=3)
    (line,) = [line for line in logs if "not charged" in line["message"]]
    assert line["severity"] == "ERROR" and "'llm_calls': 3" in line["message"]


def test_a_segment_failing_after_its_task_was_canceled_is_charged(planned: tuple[Deps, Task]):
    deps, task = planned

    def refused_after_a_cancel(ctx: SegmentContext) -> SegmentOutput:
        ctx.spent.add(Usage(llm_calls=1, cost_usd=0.002))  # the audio director's call
        tasks.cancel_task(deps, task.tenant_id, task.id)
        raise TtsError("the voice refused the text")

    assert segments.run_segment(deps, segment_message(deps, task.id, 0),
                                refused_after_a_cancel) == SegmentClaim.RUN
    canceled = _task(deps, task.id)
    assert canceled.status == TaskStatus.CANCELED
    assert canceled.usage == Usage(llm_calls=1, cost_usd=0.002)  # paid for, though it ended
    assert [u for _, _, u in _ledger(deps).charges] == [canceled.usage]
