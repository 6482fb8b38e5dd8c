"""HTTP function: Cloud Tasks delivers each task's deadline check here."""

import functions_framework
from flask import Request
from pydantic import ValidationError

from vss.bootstrap import for_deadline
from vss.domain.messages import DeadlineCheck
from vss.errors import BadRequest, NotFound
from vss.events import init_function
from vss.service.stages import check_deadline

deps = init_function(for_deadline, "deadline")


@functions_framework.http
def deadline_check(request: Request) -> tuple[dict[str, object], int]:
    try:
        check = DeadlineCheck.model_validate(request.get_json(silent=True) or {})
    except ValidationError:
        error = BadRequest('Body must be {"task_id": ...}.')
        return error.to_dict(), error.http_status
    try:
        failed = check_deadline(deps, check.task_id)
    except NotFound:  # deleted task: acknowledge, or the queue would retry it forever
        return {"task_id": check.task_id, "found": False}, 200
    return {"task_id": check.task_id, "failed": failed}, 200
