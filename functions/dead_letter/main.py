"""CloudEvent function: a stage or segment message ran out of attempts; fail its task with the
cause (naming the segment). A dead-lettered storage event (an upload check that kept failing)
is logged and dropped."""

import functions_framework
from cloudevents.http import CloudEvent

from vss.domain.messages import SegmentMessage, StageMessage
from vss.events import dropped_storage_notification, init_function, pubsub_message, traced
from vss.service import segments, stages

deps = init_function()


@functions_framework.cloud_event
def on_dead_letter(event: CloudEvent) -> None:
    if dropped_storage_notification(event):
        return
    with traced(event):
        message = pubsub_message(event, StageMessage, SegmentMessage)
        if isinstance(message, StageMessage):
            stages.on_dead_letter(deps, message)
        elif isinstance(message, SegmentMessage):
            segments.on_dead_segment(deps, message)
