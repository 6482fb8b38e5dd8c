"""CloudEvent function: runs one stage of a task per Pub/Sub stage message.

Retryable errors propagate (500, Pub/Sub redelivers with backoff); permanent ones are recorded
on the task by the service layer and the message is acknowledged.
"""

import functions_framework

from vss.bootstrap.stage_worker import for_stage_worker
from vss.domain.messages import StageMessage
from vss.events import init_function, pubsub_entry
from vss.service.stages import run_stage

deps = init_function(for_stage_worker, "stage_worker")


@functions_framework.cloud_event
@pubsub_entry(StageMessage, max_age_seconds=deps.settings.event_max_age_seconds)
def stage_worker(message: StageMessage) -> None:
    run_stage(deps, message)
