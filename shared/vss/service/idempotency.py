"""Task creation under an `Idempotency-Key`: a client that sends a request again (after a
timeout, a 503, a crash on either side) gets the task the first one created, never a second.

The key's record is claimed before the task is stored, and names the task's id in advance:
- a request that finds the record and its task answers with the task (a replay);
- one that finds the record but no task (the first request failed after its claim, e.g. the
  deadline could not be scheduled, or it died) stores the task under the recorded id;
- requests racing with one key all get the one claimed record, and the task store's `add`
  (a Firestore `create`) lets exactly one of them store the task and publish its first stage.
A replay never publishes: a task stored whose publish failed (the 503 the client retried) is
the watchdog's to publish again.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from vss.deps import Deps
from vss.domain.idempotency import body_digest, new_record, record_id
from vss.domain.tasks import Task
from vss.errors import RetryableError
from vss.service import tasks
from vss.service.tasks import CheckedRequest, CreateTask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Creation:
    task: Task
    replayed: bool  # an earlier request with the key stored the task (answered 200, not 202)


def create_task(deps: Deps, tenant_id: str, body: CreateTask, key: str | None) -> Creation:
    """Create the task, or with `key` (a parsed `Idempotency-Key`) find the one it created;
    `IdempotencyKeyReused` (422) if the key came with another body."""
    if key is None:
        return Creation(tasks.create_task(deps, tenant_id, body), replayed=False)
    digest = body_digest(body.model_dump(mode="json"))
    now = deps.clock()
    record = deps.idempotency.get(record_id(tenant_id, key))
    checked: CheckedRequest | None = None
    claimed = False
    if record is None or not record.is_live(now):
        # Checked before the key is claimed: a refused request (400, 404) leaves the key
        # unused, so the corrected request may come with the same key.
        checked = tasks.check_request(deps, tenant_id, body)
        ours = new_record(tenant_id, key, digest, uuid.uuid4().hex, now)
        record = deps.idempotency.claim(ours, now)
        claimed = record == ours
    record.check_body(digest)
    if not claimed and (stored := deps.tasks.get(record.task_id)) is not None:
        return _replayed(stored)
    task = tasks.store_task(deps, tenant_id, checked or tasks.check_request(deps, tenant_id, body),
                            record.task_id)
    if task is not None:
        return Creation(task, replayed=False)
    # A request racing with this key stored the task between our look and our write.
    stored = deps.tasks.get(record.task_id)
    if stored is None:  # only if it was deleted since: let the client try again
        raise RetryableError("The task of this Idempotency-Key could not be read; try again.",
                             details={"task_id": record.task_id})
    return _replayed(stored)


def _replayed(task: Task) -> Creation:
    log.info("task creation replayed", extra={"task_id": task.id, "tenant_id": task.tenant_id})
    return Creation(task, replayed=True)
