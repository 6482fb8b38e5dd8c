"""The task aggregate: its statuses, its pipeline of stages and the guarded transitions.

Every change to a task is one of the pure functions below applied inside a Firestore
transaction by the repository, so the rules live here and are tested without an emulator.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vss.domain.failures import TaskError
from vss.domain.leases import Lease, LeaseState
from vss.domain.results import AnyStageResult, StageResult
from vss.domain.usage import NO_USAGE, Usage
from vss.errors import InvalidTransition

__all__ = ["TaskError"]  # re-exported: the error a task records


class TaskStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


TERMINAL = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELED})
_ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset({TaskStatus.RUNNING, TaskStatus.FAILED, TaskStatus.CANCELED}),
    TaskStatus.RUNNING: frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELED}),
}


class TaskType(StrEnum):
    GENERATE_NARRATION = "GENERATE_NARRATION"
    GENERATE_DUBBING = "GENERATE_DUBBING"
    GENERATE_EDITING_SCRIPT = "GENERATE_EDITING_SCRIPT"
    GENERATE_COMMENTARY = "GENERATE_COMMENTARY"  # narration → dubbing → editing in one task
    LOCALIZE_NARRATION = "LOCALIZE_NARRATION"
    CHARACTER_IDENTIFIER = "CHARACTER_IDENTIFIER"  # facts about chosen characters
    DEPLOY_RAG_CORPUS = "DEPLOY_RAG_CORPUS"  # the story index of an asset


class Stage(StrEnum):
    NARRATION = "narration"
    DUBBING = "dubbing"  # plans the segments and fans them out to the TTS workers
    DUBBING_ASSEMBLY = "dubbing_assembly"  # runs once every segment is synthesised
    EDITING = "editing"
    LOCALIZATION = "localization"
    CHARACTER_FACTS = "character_facts"
    STORY_INDEX = "story_index"


PIPELINES: dict[TaskType, tuple[Stage, ...]] = {
    TaskType.GENERATE_NARRATION: (Stage.NARRATION,),
    TaskType.GENERATE_DUBBING: (Stage.DUBBING, Stage.DUBBING_ASSEMBLY),
    TaskType.GENERATE_EDITING_SCRIPT: (Stage.EDITING,),
    # Cut short by the payload's `stop_at` (vss.domain.pipeline.pipeline_for).
    TaskType.GENERATE_COMMENTARY: (Stage.NARRATION, Stage.DUBBING, Stage.DUBBING_ASSEMBLY,
                                   Stage.EDITING),
    TaskType.LOCALIZE_NARRATION: (Stage.LOCALIZATION,),
    TaskType.CHARACTER_IDENTIFIER: (Stage.CHARACTER_FACTS,),
    TaskType.DEPLOY_RAG_CORPUS: (Stage.STORY_INDEX,),
}


# How often a fan-out's progress may be written to its task: Firestore sustains about one
# write a second to one document, and at a high concurrency many segments finish each second.
PROGRESS_EVERY = timedelta(seconds=1)
# The counts at which a finishing item's worker looks at its task to note progress: every
# twentieth of the way (`progress_milestone`).
PROGRESS_STEPS = 20


class Progress(BaseModel):
    """Work items of a fanned-out step: `stage` starts when `done` reaches `total`.

    The items are counted from their own documents (a segment is written by its own attempts
    only), and the count is copied here at most once per PROGRESS_EVERY, at the fan-in and
    when the task fails during the fan-out: the task's document is never a counter that every
    finishing item writes."""

    stage: Stage
    done: int = Field(ge=0, description="Items done, as last counted.")
    total: int = Field(ge=1)
    plan: str = Field(description="Fencing token of the planning attempt whose commit won: "
                      "its segments are the ones counted.")
    usage: Usage = Field(NO_USAGE, description="What the finished items spent, as last summed "
                         "(at the fan-in, or when the task failed during the fan-out).")
    counted_at: datetime | None = None


class StageEventKind(StrEnum):
    QUEUED = "queued"  # ready for a worker (created, the previous stage done, fanned in)
    WAITING = "waiting"  # waiting on fanned-out work
    CLAIMED = "claimed"  # an attempt took the stage under a lease
    RELEASED = "released"  # the attempt failed transiently; the message comes back
    FINISHED = "finished"
    FAILED = "failed"  # the task failed at this stage (its attempt, a deadline, a segment)
    RESUMED = "resumed"
    CANCELED = "canceled"


class StageEvent(BaseModel):
    """One step of a stage's life, for the operator's timeline of a task."""

    stage: Stage
    kind: StageEventKind
    at: datetime
    attempt: str | None = Field(None, description="The attempt's fencing token.")
    code: int | None = Field(None, description="The error code of a release or failure.")


# A task's document stays far below Firestore's 1 MiB with this many events; a task retried
# past it keeps the latest ones.
TIMELINE_LIMIT = 200


class StageRun(Lease):
    """Where the current stage stands: its lease protects a running stage from a twin."""

    stage: Stage


class Task(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    tenant_id: str
    task_type: TaskType
    payload: dict[str, Any]
    status: TaskStatus = TaskStatus.PENDING
    stages: list[Stage]
    current: StageRun
    waiting_on: list[str] = Field(default_factory=list, description="File ids not yet validated.")
    results: dict[Stage, AnyStageResult] = Field(
        default_factory=dict, description="Each finished stage's result, keyed by stage."
    )
    error: TaskError | None = Field(None, description="The latest error.")
    errors: list[TaskError] = Field(
        default_factory=list, description="Every error the task failed with, oldest first "
        "(a resumed task keeps the causes of its earlier failures).")
    usage: Usage = Field(NO_USAGE, description="What the stages' attempts spent (a fan-out's "
                         "items keep theirs on their own documents: `progress.usage`).")
    progress: Progress | None = Field(None, description="Fanned-out work done so far.")
    timeline: list[StageEvent] = Field(
        default_factory=list, description="What happened to each stage and attempt, oldest "
        f"first (the latest {TIMELINE_LIMIT}).")
    created: datetime
    modified: datetime
    deadline_at: datetime
    expire_at: datetime | None = Field(
        None, description="When Firestore's TTL policy may delete this record."
    )
    trace: str | None = Field(None, description="Trace id of the API call that created it.")

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def spent(self) -> Usage:
        """Everything the task spent: its stages and its fanned-out items."""
        return self.usage + self.progress.usage if self.progress else self.usage

    @property
    def main_result(self) -> StageResult | None:
        """The result of the last stage that finished: it holds the task's main artifact."""
        done = [stage for stage in self.stages if stage in self.results]
        return self.results[done[-1]] if done else None

    def next_stage(self) -> Stage | None:
        index = self.stages.index(self.current.stage) + 1
        return self.stages[index] if index < len(self.stages) else None

    def noted(self, kind: StageEventKind, now: datetime, *, stage: Stage | None = None,
              attempt: str | None = None, code: int | None = None) -> list[StageEvent]:
        """The timeline with one more event (of the current stage unless `stage` is given)."""
        event = StageEvent(stage=stage or self.current.stage, kind=kind, at=now,
                           attempt=attempt, code=code)
        return [*self.timeline, event][-TIMELINE_LIMIT:]


def new_task(
    *,
    task_id: str,
    tenant_id: str,
    task_type: TaskType,
    payload: dict[str, Any],
    waiting_on: list[str],
    now: datetime,
    deadline: timedelta,
    retention: timedelta | None = None,
    trace: str | None = None,
    stages: list[Stage] | None = None,
) -> Task:
    stages = stages or list(PIPELINES[task_type])
    queued = StageEvent(stage=stages[0], kind=StageEventKind.QUEUED, at=now)
    return Task(
        id=task_id,
        tenant_id=tenant_id,
        task_type=task_type,
        payload=payload,
        stages=stages,
        current=StageRun(stage=stages[0]),
        waiting_on=waiting_on,
        timeline=[queued],
        created=now,
        modified=now,
        deadline_at=now + deadline,
        expire_at=now + retention if retention else None,
        trace=trace,
    )


def _move(task: Task, to: TaskStatus, now: datetime, **changes: Any) -> Task:
    if to not in _ALLOWED.get(task.status, frozenset()):
        raise InvalidTransition(
            f"Task {task.id} cannot go from {task.status} to {to}.",
            details={"task_id": task.id, "status": task.status, "requested": to},
        )
    return task.model_copy(update={"status": to, "modified": now, **changes})


def resume(task: Task, now: datetime, deadline: timedelta, waiting_on: list[str]) -> Task:
    """A FAILED task runs again from the stage that failed; finished stages keep their results
    and are not run again, fanned-out work keeps what is done. An attempt still alive under its
    lease keeps it (its outcome counts); otherwise the stage starts afresh. `waiting_on` is
    what the caller found still unchecked among the task's inputs: the task waits on it
    (PENDING) instead of running."""
    if task.status != TaskStatus.FAILED:
        raise InvalidTransition(
            f"Only a FAILED task can be resumed; task {task.id} is {task.status}.",
            details={"task_id": task.id, "status": task.status},
        )
    current = task.current
    if not current.is_live(now):
        waiting = task.progress is not None and task.progress.stage == current.stage \
            and task.progress.done < task.progress.total
        current = StageRun(stage=current.stage,
                           state=LeaseState.WAITING if waiting else LeaseState.QUEUED)
    started = bool(task.results) or task.current.attempts > 0 or task.progress is not None
    status = TaskStatus.RUNNING if started or not waiting_on else TaskStatus.PENDING
    return task.model_copy(update={"status": status, "error": None, "current": current,
                                   "waiting_on": waiting_on, "modified": now,
                                   "deadline_at": now + deadline,
                                   "timeline": task.noted(StageEventKind.RESUMED, now)})


def refuse_resume(task: Task, error: TaskError, now: datetime) -> Task:
    """A resume refused because an input is invalid: the task stays FAILED, with that cause
    as its latest error."""
    if task.status != TaskStatus.FAILED or task.error == error:
        return task
    return task.model_copy(update={"error": error, "errors": [*task.errors, error],
                                   "modified": now})


def fail(task: Task, error: TaskError, now: datetime, attempt: str | None = None) -> Task:
    """Fail the task (by `attempt`, when one failed it); the error becomes `error` and joins
    the history in `errors`."""
    return _move(task, TaskStatus.FAILED, now, error=error, errors=[*task.errors, error],
                 timeline=task.noted(StageEventKind.FAILED, now, attempt=attempt,
                                     code=error.code))


def cancel(task: Task, now: datetime) -> Task:
    return _move(task, TaskStatus.CANCELED, now,
                 timeline=task.noted(StageEventKind.CANCELED, now))


def input_ready(task: Task, file_id: str, now: datetime) -> Task:
    """A file the task waited on became valid."""
    remaining = [f for f in task.waiting_on if f != file_id]
    return task.model_copy(update={"waiting_on": remaining, "modified": now})


class StageClaim(StrEnum):
    """What a worker holding a stage message should do."""

    RUN = "run"  # the stage is ours until the lease expires
    DONE_ALREADY = "done_already"  # duplicate delivery of a finished stage
    CLOSED = "closed"  # task finished, failed or canceled: drop the message
    BUSY = "busy"  # another worker holds a live lease: let the message come back later
    STALE = "stale"  # message for a stage the task has moved past or not reached
    UNKNOWN = "unknown"  # no such task (deleted by its TTL, or never ours): drop the message


def claim_decision(task: Task, stage: Stage, now: datetime) -> StageClaim:
    if task.is_terminal:
        return StageClaim.CLOSED
    if task.waiting_on or (stage == task.current.stage
                           and task.current.state == LeaseState.WAITING):
        return StageClaim.STALE
    if stage != task.current.stage:
        done_before = task.stages.index(stage) < task.stages.index(task.current.stage)
        return StageClaim.DONE_ALREADY if done_before else StageClaim.STALE
    if task.current.state == LeaseState.DONE:
        return StageClaim.DONE_ALREADY
    if task.current.is_live(now):
        return StageClaim.BUSY
    return StageClaim.RUN


def claim(task: Task, stage: Stage, token: str, now: datetime, lease: timedelta) -> Task:
    """Take the stage for attempt `token`; call only after `claim_decision` said RUN."""
    run = task.current.claimed(token, now, lease)
    timeline = task.noted(StageEventKind.CLAIMED, now, attempt=token)
    if task.status == TaskStatus.PENDING:
        return _move(task, TaskStatus.RUNNING, now, current=run, timeline=timeline)
    return task.model_copy(update={"current": run, "modified": now, "timeline": timeline})


def holds(task: Task, stage: Stage, token: str) -> bool:
    """Whether attempt `token` of `stage` may still write the stage's outcome."""
    return task.status == TaskStatus.RUNNING and task.current.stage == stage \
        and task.current.holds(token)


def renew(task: Task, stage: Stage, token: str, until: datetime) -> Task:
    if not holds(task, stage, token):
        return task
    return task.model_copy(update={"current": task.current.renewed(token, until)})


def charge(task: Task, spent: Usage) -> Task:
    """What an attempt spent, kept on the task even when the attempt left no output (it
    failed, or it was stale: whoever paid the provider, the tenant's usage says so)."""
    if spent.is_zero:
        return task
    return task.model_copy(update={"usage": task.usage + spent})


def release(task: Task, stage: Stage, token: str, error: TaskError, now: datetime) -> Task:
    """A transient failure of attempt `token`: give the stage back so the redelivered message
    can retake it. A stale attempt changes nothing."""
    if not holds(task, stage, token):
        return task
    return task.model_copy(update={
        "current": task.current.released(token, error), "modified": now,
        "timeline": task.noted(StageEventKind.RELEASED, now, attempt=token, code=error.code)})


def fail_attempt(task: Task, stage: Stage, token: str, error: TaskError, now: datetime) -> Task:
    """A permanent failure of attempt `token` fails the task; a stale attempt's does not."""
    if not holds(task, stage, token):
        return task
    ended = task.model_copy(update={"current": task.current.ended(token, LeaseState.QUEUED)})
    return fail(ended, error, now, attempt=token)


def finish_stage(
    task: Task, stage: Stage, token: str, result: AnyStageResult, usage: Usage,
    now: datetime, fan_out: int = 0,
) -> Task:
    """Record attempt `token`'s output; move to the next stage or complete the task. With
    `fan_out` work items, the next stage waits until every one is done. A stale attempt
    (`holds` is false) changes nothing: the caller charges its usage."""
    if not holds(task, stage, token):
        return task
    merged_usage = task.usage + usage
    results = {**task.results, stage: result}
    finished = task.model_copy(update={
        "timeline": task.noted(StageEventKind.FINISHED, now, attempt=token)})
    following = task.next_stage()
    if following is None:
        done = task.current.ended(token)
        return _move(finished, TaskStatus.COMPLETED, now, current=done, results=results,
                     usage=merged_usage)
    if fan_out:
        return finished.model_copy(update={
            "current": StageRun(stage=following, state=LeaseState.WAITING),
            "progress": Progress(stage=following, done=0, total=fan_out, plan=token),
            "results": results, "usage": merged_usage, "modified": now,
            "timeline": finished.noted(StageEventKind.WAITING, now, stage=following),
        })
    return finished.model_copy(update={
        "current": StageRun(stage=following), "results": results, "usage": merged_usage,
        "modified": now,
        "timeline": finished.noted(StageEventKind.QUEUED, now, stage=following),
    })


def _waits_on(task: Task, plan: str) -> bool:
    progress = task.progress
    return not task.is_terminal and progress is not None and progress.plan == plan \
        and task.current.state == LeaseState.WAITING and task.current.stage == progress.stage


def progress_due(task: Task, plan: str, done: int, now: datetime) -> bool:
    """Whether a count of `done` items is news worth a write of the task: it waits on that
    plan, the count grew, and the last was written at least PROGRESS_EVERY ago."""
    progress = task.progress
    return _waits_on(task, plan) and progress is not None and done > progress.done \
        and (progress.counted_at is None or now - progress.counted_at >= PROGRESS_EVERY)


def progress_milestone(done: int, total: int) -> bool:
    """Whether a worker that counted `done` of `total` items, short of the total, looks at the
    task to note progress: at every twentieth of the way (at every item of a fan-out of up to
    39). The others skip reading the task, the one call of their fan-in that only a note
    needs; what they counted is in the next milestone's count."""
    return done % max(1, total // PROGRESS_STEPS) == 0


def counted(task: Task, plan: str, done: int, now: datetime, usage: Usage | None = None
            ) -> Task:
    """The plan's items as counted from their documents (with what they spent, when summed);
    the count of another plan changes nothing."""
    progress = task.progress
    if progress is None or progress.plan != plan:
        return task
    update: dict[str, Any] = {"done": done, "counted_at": now}
    if usage is not None:
        update["usage"] = usage
    return task.model_copy(update={"progress": progress.model_copy(update=update)})


def start_when_fanned_in(task: Task, plan: str, done: int, usage: Usage, now: datetime
                         ) -> Task:
    """The stage that waited on fanned-out work becomes ready to run once every item of its
    plan is done (`done`, counted from the items, with what they spent). Applied in a
    transaction, so exactly one caller sees it change."""
    if not _waits_on(task, plan) or task.progress is None or done < task.progress.total:
        return task
    return counted(task, plan, done, now, usage).model_copy(update={
        "current": task.current.model_copy(update={"state": LeaseState.QUEUED}),
        "modified": now, "timeline": task.noted(StageEventKind.QUEUED, now)})
