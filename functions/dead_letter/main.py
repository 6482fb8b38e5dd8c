"""CloudEvent function: a stage or segment message ran out of attempts; fail its task with the
cause (naming the segment). A dead-lettered storage event (an upload check that kept failing)
is logged and dropped. Each dead letter is recorded for the operations console."""

import functions_framework

from vss.bootstrap import for_dead_letter
from vss.domain.dead_letters import Delivery
from vss.events import dead_letter_entry, init_function
from vss.service import dead_letters

deps = init_function(for_dead_letter, "dead_letter")


@functions_framework.cloud_event
@dead_letter_entry
def on_dead_letter(delivery: Delivery, message: dead_letters.DeadMessage) -> None:
    dead_letters.on_dead_letter(deps, delivery, message)
