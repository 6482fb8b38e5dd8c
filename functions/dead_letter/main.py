"""CloudEvent function: a stage or segment message ran out of attempts; fail its task with the
cause (naming the segment). A dead-lettered storage event (an upload check that kept failing)
is logged and dropped."""

import functions_framework

from vss.bootstrap import for_dead_letter
from vss.domain.messages import SegmentMessage, StageMessage
from vss.events import dropped_storage_notification, init_function, pubsub_entry
from vss.service import segments, stages

deps = init_function(for_dead_letter)


@functions_framework.cloud_event
@pubsub_entry(StageMessage, SegmentMessage, drop=dropped_storage_notification)
def on_dead_letter(message: StageMessage | SegmentMessage) -> None:
    if isinstance(message, StageMessage):
        stages.on_dead_letter(deps, message)
    else:
        segments.on_dead_segment(deps, message)
