"""CloudEvent function: a stage message ran out of attempts; fail its task with the cause.
A dead-lettered storage event (an upload check that kept failing) is logged and dropped."""

import functions_framework
from cloudevents.http import CloudEvent

from vss.domain.messages import StageMessage
from vss.events import dropped_storage_notification, init_function, pubsub_message, traced
from vss.service import stages

deps = init_function()


@functions_framework.cloud_event
def on_dead_letter(event: CloudEvent) -> None:
    if dropped_storage_notification(event):
        return
    with traced(event):
        message = pubsub_message(event, StageMessage)
        if message is not None:
            stages.on_dead_letter(deps, message)
