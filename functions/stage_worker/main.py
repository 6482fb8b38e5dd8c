"""CloudEvent function: runs one stage of a task per Pub/Sub stage message.

Retryable errors propagate (500, Pub/Sub redelivers with backoff); permanent ones are recorded
on the task by the service layer and the message is acknowledged.
"""

import logging

import functions_framework
from cloudevents.http import CloudEvent

from vss.domain.messages import StageMessage
from vss.events import init_function, pubsub_message, too_old, traced
from vss.service.stages import run_stage
from vss.workers import stage_worker_handlers

deps = init_function(handlers=stage_worker_handlers())
log = logging.getLogger(__name__)


@functions_framework.cloud_event
def stage_worker(event: CloudEvent) -> None:
    with traced(event):  # the trace of the API request that created the task
        if too_old(event, deps.settings.event_max_age_seconds):
            log.warning("stale stage message dropped", extra={"event_id": event["id"]})
            return
        message = pubsub_message(event, StageMessage)
        if message is not None:
            run_stage(deps, message)
