"""Task use cases: create, read, list, cancel, start when inputs are ready, result location."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.cast import cast_of
from vss.domain.dataset import parse_dataset
from vss.domain.files import CHECKED, FileKind, FileRecord, FileStatus
from vss.domain.ids import is_valid_id
from vss.domain.messages import StageMessage
from vss.domain.paths import UPLOADS, check_relative_path, owner_id
from vss.domain.payloads import (
    COMMENTARY_PARAMS,
    PAYLOADS,
    CharacterIdentifierPayload,
    DubbingServiceParams,
    GenerateCommentaryPayload,
    GenerateNarrationPayload,
    input_paths,
    point_at_stage_params,
)
from vss.domain.pipeline import pipeline_for
from vss.domain.pointers import validated
from vss.domain.storable import storable_errors
from vss.domain.tasks import Stage, Task, TaskError, TaskStatus, TaskType
from vss.dubbing.templates import check_dubbing_params
from vss.errors import (
    BadRequest,
    InvalidTransition,
    NotFound,
    PayloadInvalid,
    TaskNotReady,
    UnexpectedError,
    UnknownTaskType,
)
from vss.observability import TRACE_ATTRIBUTE, current_trace
from vss.service import assets, quotas
from vss.service.storage import location, read_file

log = logging.getLogger(__name__)

EXPECTED_KIND = {
    "blueprint_path": FileKind.DATASET,
    "input_narration_path": FileKind.NARRATION_SCRIPT,
    "master_script_path": FileKind.NARRATION_SCRIPT,
    "input_dubbing_path": FileKind.DUBBING_SCRIPT,
    "input_file_path": FileKind.DATASET,
    "blueprint_input_path": FileKind.DATASET,
    "facts_input_path": FileKind.CHARACTER_FACTS,
}


class CreateTask(BaseModel):
    """Body of `POST /api/v1/tasks/`."""

    task_type: str
    payload: dict[str, Any]


def parse_payload(task_type: TaskType, payload: dict[str, Any]) -> BaseModel:
    parsed = validated(PAYLOADS[task_type], payload, BadRequest,
                       f"payload does not match {task_type}.", "/payload")
    if errors := storable_errors(parsed.model_dump(mode="json"), "/payload"):
        raise BadRequest("payload cannot be stored as sent.", details={"errors": errors})
    return parsed


def check_params(deps: Deps, payload: BaseModel) -> None:
    """The checks of a payload that need more than its model, run at creation so that a
    mistake is a 400 and not a failed task: a model with a known price (the cost estimate
    stays honest, typos fail early) and voice templates that exist."""
    if not isinstance(payload, GenerateCommentaryPayload):
        if isinstance(params := getattr(payload, "service_params", None), BaseModel):
            _check_service_params(deps, params)
        return
    for stage in (Stage.NARRATION, Stage.DUBBING, Stage.EDITING):
        try:
            _check_service_params(deps, getattr(payload, COMMENTARY_PARAMS[stage]))
        except BadRequest as exc:
            point_at_stage_params(stage, exc.details)
            raise


def _check_service_params(deps: Deps, params: BaseModel) -> None:
    model = getattr(params, "model", None)
    if isinstance(params, DubbingServiceParams):
        check_dubbing_params(params)
    elif model is not None and model not in deps.settings.gemini_prices:
        raise BadRequest(
            f"Unknown model {model!r}.",
            details={"errors": [{"pointer": "/payload/service_params/model",
                                 "reason": f"not one of {sorted(deps.settings.gemini_prices)}"}]},
        )


def _task_type(name: str) -> TaskType:
    try:
        return TaskType(name)
    except ValueError:
        raise UnknownTaskType(
            f"Unknown task_type {name!r}.", details={"supported": [t.value for t in TaskType]}
        ) from None


def input_problem(field: str, record: FileRecord) -> TaskError | None:
    """Why a checked input file cannot feed this field, or None."""
    if record.status == FileStatus.INVALID:
        return TaskError(
            code=PayloadInvalid.code, message=f"{field} names an invalid file.",
            details={"field": field, "path": record.relative_path, "errors": record.errors},
        )
    expected = EXPECTED_KIND.get(field)
    if expected is not None and record.kind != expected:
        return TaskError(
            code=PayloadInvalid.code,
            message=f"{field} must name a {expected.value}, not a {record.kind}.",
            details={"field": field, "path": record.relative_path},
        )
    return None


def _resolve_inputs(
    deps: Deps, tenant_id: str, paths: dict[str, str]
) -> tuple[list[str], TaskError | None]:
    """(ids of files still being checked, the first input problem) — 404 for unknown paths."""
    waiting: list[str] = []
    for field, path in paths.items():
        clean = check_relative_path(path)
        if clean.startswith(UPLOADS + "/"):
            file_id = owner_id(clean)
            record = deps.files.get(file_id) if is_valid_id(file_id) else None
            if record is None or record.tenant_id != tenant_id or record.relative_path != clean:
                raise NotFound(f"{field}: no such file.", details={"field": field, "path": path})
            if record.status not in CHECKED:
                waiting.append(record.id)
            elif problem := input_problem(field, record):
                return waiting, problem
        elif not deps.blobs.exists(*location(deps, tenant_id, clean)):
            raise NotFound(f"{field}: no such file.", details={"field": field, "path": path})
    return waiting, None


def publish_stage(deps: Deps, task_id: str, stage: Stage, trace: str | None = None) -> None:
    """Publish the stage message with a trace (the task's, else the current one: the API
    request's, or the one the worker publishing the next stage runs under) so the worker logs
    under it too."""
    message = StageMessage(task_id=task_id, stage=stage)
    trace = trace or current_trace.get()
    deps.publisher.publish(
        deps.settings.stages_topic, message.model_dump_json().encode(),
        task_id=task_id, stage=stage.value, **({TRACE_ATTRIBUTE: trace} if trace else {}),
    )


def schedule_watchdog(deps: Deps, task: Task) -> None:
    """The task's next check: its watchdog, or its deadline when that comes sooner."""
    soon = deps.clock() + timedelta(seconds=deps.settings.watchdog_seconds)
    deps.deadlines.schedule(task.id, min(soon, task.deadline_at))


@dataclass(frozen=True)
class CheckedRequest:
    """A creation request that passed every check: what storing its task needs."""

    task_type: TaskType
    payload: BaseModel
    waiting: list[str]  # ids of input files still being checked
    problem: TaskError | None  # an input that can never feed the task: it is stored FAILED


def check_request(deps: Deps, tenant_id: str, body: CreateTask) -> CheckedRequest:
    """Validate a creation request (400, 404 naming the problem), look at its inputs and
    check the tenant's quotas (429)."""
    task_type = _task_type(body.task_type)
    payload = parse_payload(task_type, body.payload)
    check_params(deps, payload)
    payload = _pin_story_index(deps, tenant_id, payload)
    waiting, problem = _resolve_inputs(deps, tenant_id, input_paths(payload))
    if not waiting and not problem:
        _check_cast(deps, tenant_id, payload)
    # Last: a request that is wrong is a 400 or 404 whatever the tenant's quotas.
    quotas.check_task_creation(deps, tenant_id)
    return CheckedRequest(task_type, payload, waiting, problem)


def _check_cast(deps: Deps, tenant_id: str, payload: BaseModel) -> None:
    """The characters a CHARACTER_IDENTIFIER names are its dataset's: a 400 listing the
    dataset's characters when one is not. Checked here once the dataset is (else when the
    stage reads it: the task fails with the same details)."""
    if not isinstance(payload, CharacterIdentifierPayload):
        return
    dataset = parse_dataset(read_file(deps, tenant_id, payload.input_file_path))
    try:
        cast_of(dataset, payload.service_params.characters_to_analyze)
    except PayloadInvalid as exc:
        raise BadRequest(exc.message, details=exc.details) from None


def _pin_story_index(deps: Deps, tenant_id: str, payload: BaseModel) -> BaseModel:
    """A narration of an asset with a story index reads the index deployed when it was asked
    for, whatever is deployed while it runs (`story_index_path`, unless the request names
    one)."""
    if not isinstance(payload, GenerateNarrationPayload | GenerateCommentaryPayload) \
            or payload.story_index_path is not None:
        return payload
    manifest = assets.current_manifest(deps, tenant_id, payload.asset_id)
    return payload.model_copy(update={"story_index_path": manifest}) if manifest else payload


def store_task(deps: Deps, tenant_id: str, request: CheckedRequest, task_id: str) -> Task | None:
    """Store the task under `task_id` and start it; None, with nothing stored or published,
    when a task with that id is stored already (a racing request with the same idempotency
    key stored it first)."""
    payload, waiting, problem = request.payload, request.waiting, request.problem
    now = deps.clock()
    task = rules.new_task(
        task_id=task_id, tenant_id=tenant_id, task_type=request.task_type,
        stages=pipeline_for(request.task_type, payload),
        payload=payload.model_dump(mode="json"), waiting_on=[] if problem else waiting,
        now=now, deadline=timedelta(seconds=deps.settings.task_deadline_seconds),
        retention=timedelta(days=deps.settings.task_retention_days),
        trace=current_trace.get(),
    )
    if problem:
        task = rules.fail(task, problem, now)
    else:
        # The check first: if scheduling fails (RetryableError, 503) no task is left PENDING
        # without one; a check whose task was never stored is acknowledged as done. It is the
        # watchdog too: a task stored but never published is published by it. A racing
        # request's check of the same task is harmless: checks are idempotent.
        schedule_watchdog(deps, task)
    if not deps.tasks.add(task):
        return None
    log.info("task created", extra={"task_id": task.id, "tenant_id": tenant_id})
    if task.is_terminal:
        return task
    if not waiting:
        publish_stage(deps, task.id, task.current.stage)
        return task
    # The upload check may have finished between our read and our write: look again.
    for file_id in waiting:
        record = deps.files.get(file_id)
        if record is not None and record.status in CHECKED:
            task = input_checked(deps, task, record)
    return task


def create_task(deps: Deps, tenant_id: str, body: CreateTask) -> Task:
    task = store_task(deps, tenant_id, check_request(deps, tenant_id, body), uuid.uuid4().hex)
    if task is None:  # a random 128-bit id is never taken; were it, that task is not this one
        raise UnexpectedError("A new task's id is taken.")
    return task


def input_checked(deps: Deps, task: Task, record: FileRecord) -> Task:
    """A file the task waits on has been checked: fail the task or start it when all are in."""
    payload = parse_payload(task.task_type, task.payload)  # the payload never changes
    fields = [f for f, p in input_paths(payload).items() if owner_id(p) == record.id]
    problem = next((p for f in fields if (p := input_problem(f, record))), None)

    def change(current: Task) -> Task:
        if current.is_terminal or record.id not in current.waiting_on:
            return current
        now = deps.clock()
        if problem:
            return rules.fail(current, problem, now)
        return rules.input_ready(current, record.id, now)

    before, after = deps.tasks.update(task.id, change)
    if before.waiting_on and not after.waiting_on and after.status == TaskStatus.PENDING:
        # Started by the upload check, not by the API call: the task keeps that call's trace.
        publish_stage(deps, after.id, after.current.stage, trace=after.trace)
    if after.status == TaskStatus.FAILED and before.status != TaskStatus.FAILED:
        log.info("task failed: invalid input", extra={"task_id": task.id})
    return after


def release_waiting_tasks(deps: Deps, record: FileRecord) -> int:
    """Start (or fail) every task that waited on this now-checked file."""
    tasks = deps.tasks.waiting_on(record.id)
    for task in tasks:
        input_checked(deps, task, record)
    return len(tasks)


def list_tasks(
    deps: Deps, tenant_id: str, *, limit: int, page_token: str | None
) -> tuple[list[Task], str | None]:
    """A page of the tenant's tasks, newest first, after the task `page_token` names (400 if it
    names none of theirs: silently starting over would repeat the pages already read)."""
    if page_token is not None and not is_valid_id(page_token):
        raise _bad_page_token()
    try:
        return deps.tasks.list_for_tenant(tenant_id, limit=limit, after=page_token)
    except NotFound:
        raise _bad_page_token() from None


def _bad_page_token() -> BadRequest:
    return BadRequest("page_token is not a token from this list.", details={"errors": [{
        "pointer": "/query/page_token",
        "reason": "unknown page token: start again without it",
    }]})


def get_task(deps: Deps, tenant_id: str, task_id: str) -> Task:
    task = deps.tasks.get(task_id) if is_valid_id(task_id) else None
    if task is None or task.tenant_id != tenant_id:
        raise NotFound(f"Task {task_id} does not exist.", details={"task_id": task_id})
    return task


def cancel_task(deps: Deps, tenant_id: str, task_id: str) -> Task:
    get_task(deps, tenant_id, task_id)
    _, after = deps.tasks.update(task_id, lambda t: rules.cancel(t, deps.clock()))
    log.info("task canceled", extra={"task_id": task_id})
    return after


def result_path(deps: Deps, tenant_id: str, task_id: str) -> str:
    """Relative path of the task's main artifact; 425 while it runs, 409 if it never will."""
    task = get_task(deps, tenant_id, task_id)
    if task.status in (TaskStatus.PENDING, TaskStatus.RUNNING):
        raise TaskNotReady(
            "The task has not completed yet.", details={"task_id": task_id, "status": task.status}
        )
    main = task.main_result
    if task.status != TaskStatus.COMPLETED or main is None:
        raise InvalidTransition(
            "The task ended without a result.",
            details={"task_id": task_id, "status": task.status},
        )
    return main.output_file_path
