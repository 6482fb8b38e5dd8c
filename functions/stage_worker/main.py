"""CloudEvent function: runs one stage of a task per Pub/Sub stage message.

Retryable errors propagate (500, Pub/Sub redelivers with backoff); permanent ones are recorded
on the task by the service layer and the message is acknowledged.
"""

import functions_framework

from vss.domain.messages import StageMessage
from vss.events import init_function, pubsub_entry
from vss.service.stages import run_stage
from vss.workers import stage_worker_handlers

deps = init_function(handlers=stage_worker_handlers())


@functions_framework.cloud_event
@pubsub_entry(StageMessage, max_age_seconds=deps.settings.event_max_age_seconds)
def stage_worker(message: StageMessage) -> None:
    run_stage(deps, message)
