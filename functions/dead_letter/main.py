"""CloudEvent function: a stage message ran out of attempts; fail its task with the cause."""

import functions_framework
from cloudevents.http import CloudEvent

from vss.domain.messages import StageMessage
from vss.events import init_function, pubsub_message
from vss.service import stages

deps = init_function()


@functions_framework.cloud_event
def on_dead_letter(event: CloudEvent) -> None:
    message = pubsub_message(event, StageMessage)
    if message is not None:
        stages.on_dead_letter(deps, message)
