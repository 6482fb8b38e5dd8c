"""The dead_letter function's work: keep a record of every message Pub/Sub gave up delivering,
then fail the task of a stage or segment message; a storage event is logged and dropped."""

from __future__ import annotations

import logging

from vss.deps import Deps
from vss.domain.dead_letters import DeadLetter, DeadLetterKind, Delivery, new_dead_letter
from vss.domain.ids import is_valid_id
from vss.domain.messages import SegmentMessage, StageMessage, StorageNotification
from vss.domain.paths import split_blob_name
from vss.service import segments, stages

log = logging.getLogger(__name__)

DeadMessage = StageMessage | SegmentMessage | StorageNotification


def on_dead_letter(deps: Deps, delivery: Delivery, message: DeadMessage) -> bool:
    """Record the dead letter, then act on it; return whether a task was failed.

    The record comes first: a redelivery (this call failed after it) finds it and adds none,
    and failing the task again is harmless (it is failed once).
    """
    letter = _letter(deps, delivery, message)
    if not deps.dead_letters.record(letter):
        log.info("dead letter recorded already (a redelivery)",
                 extra={"event_id": delivery.message_id})
    if isinstance(message, StageMessage):
        return stages.on_dead_letter(deps, message)
    if isinstance(message, SegmentMessage):
        return segments.on_dead_segment(deps, message)
    # A task waiting on that object's check is not left waiting: its deadline check fails it.
    log.error("storage event dead-lettered, dropped: gs://%s/%s (%s)", message.bucket,
              message.name, message.event_type or "no eventType",
              extra={"event_id": delivery.message_id})
    return False


def _letter(deps: Deps, delivery: Delivery, message: DeadMessage) -> DeadLetter:
    now = deps.clock()
    if isinstance(message, StorageNotification):
        tenant = None
        if message.bucket == deps.settings.uploads_bucket:
            parsed = split_blob_name(message.name)
            tenant = parsed[0] if parsed else None
        return new_dead_letter(DeadLetterKind.STORAGE, delivery, now, tenant_id=tenant,
                               object_name=f"gs://{message.bucket}/{message.name}",
                               details={"event_type": message.event_type}
                               if message.event_type else None)
    if isinstance(message, StageMessage):
        kind, details = DeadLetterKind.STAGE, {"stage": message.stage.value}
    else:
        kind = DeadLetterKind.SEGMENT
        details = {"plan": message.plan, "index": str(message.index)}
    # The tenant makes the record findable by whom it concerns; a task gone (or an id that
    # names none) still leaves the record.
    task = deps.tasks.get(message.task_id) if is_valid_id(message.task_id) else None
    return new_dead_letter(kind, delivery, now, task_id=message.task_id,
                           tenant_id=task.tenant_id if task else None, details=details)
