"""CloudEvent function: synthesises one dubbing segment per Pub/Sub segment message.

Retryable errors propagate (500, Pub/Sub redelivers the segment alone, with backoff); the last
segment to finish starts the assembly stage; permanent ones fail the task naming the segment.
"""

import logging

import functions_framework
from cloudevents.http import CloudEvent

from vss.config import get_settings
from vss.domain.messages import SegmentMessage
from vss.events import init_function, pubsub_message, too_old, traced
from vss.service.segments import run_segment
from vss.workers import tts_worker_handler

deps = init_function(segment_handler=tts_worker_handler(get_settings()))
log = logging.getLogger(__name__)


@functions_framework.cloud_event
def tts_worker(event: CloudEvent) -> None:
    with traced(event):
        if too_old(event, deps.settings.event_max_age_seconds):
            log.warning("stale segment message dropped", extra={"event_id": event["id"]})
            return
        message = pubsub_message(event, SegmentMessage)
        if message is not None:
            run_segment(deps, message)
