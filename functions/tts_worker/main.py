"""CloudEvent function: synthesises one dubbing segment per Pub/Sub segment message.

Retryable errors propagate (500, Pub/Sub redelivers the segment alone, with backoff); the last
segment to finish starts the assembly stage; permanent ones fail the task naming the segment.
"""

from functools import partial

import functions_framework

from vss.bootstrap.tts_worker import for_tts_worker
from vss.domain.messages import SegmentMessage
from vss.events import forked_processes, init_function, pubsub_entry
from vss.service.segments import run_segment

# Built before functions-framework forks its processes: where it forks several (the local
# stack), the offline models are loaded here once and shared by them. Production runs one
# process per instance, and an instance whose segments use cloud voices never loads them.
deps = init_function(partial(for_tts_worker, preload=forked_processes() > 1), "tts_worker")


@functions_framework.cloud_event
@pubsub_entry(SegmentMessage, max_age_seconds=deps.settings.event_max_age_seconds)
def tts_worker(message: SegmentMessage) -> None:
    run_segment(deps, message)
