"""CloudEvent function: `google.cloud.storage.object.v1.finalized` on the uploads bucket."""

import logging

import functions_framework
from cloudevents.http import CloudEvent

from vss.bootstrap import for_on_upload
from vss.events import init_function, object_generation, too_old
from vss.service.uploads import check_landed_object

deps = init_function(for_on_upload, "on_upload")
log = logging.getLogger(__name__)


@functions_framework.cloud_event
def on_upload(event: CloudEvent) -> None:
    if too_old(event, deps.settings.event_max_age_seconds):
        log.warning("stale upload event dropped", extra={"event_id": event["id"]})
        return
    data = event.data or {}
    generation = object_generation(data)
    if generation is None:
        # Storage events always name one; without it no check can be pinned to the bytes it
        # read, and a redelivery would not bring one: acknowledge it unprocessed.
        log.error("upload event without a generation dropped", extra={"event_id": event["id"]})
        return
    check_landed_object(deps, data.get("bucket", ""), data.get("name", ""), generation)
