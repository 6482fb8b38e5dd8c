"""Local stand-in for Eventarc's Cloud Storage trigger.

fake-gcs-server publishes classic GCS Pub/Sub notifications (`eventType=OBJECT_FINALIZE`, data =
the object resource). A push subscription delivers them here; this app turns each one into the
`google.cloud.storage.object.v1.finalized` CloudEvent that Eventarc delivers in production and
POSTs it in binary mode to the target function, so the function code is the same in both places.

    .venv/bin/python emulators/eventarc_bridge.py --port 8089 --target http://127.0.0.1:8091/
"""

import argparse
import base64
import binascii
import json
import logging
import string
from typing import Any
from urllib.parse import quote

import requests
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent
from flask import Flask, request

FINALIZED_TYPE = "google.cloud.storage.object.v1.finalized"
# The longest an event-driven Cloud Function may run; Eventarc waits as long.
FORWARD_TIMEOUT_S = 540
# Header values must be latin-1 on the wire; only non-ASCII is percent-encoded (spec 3.1.3.2),
# so plain names stay byte-identical to what Eventarc sends.
_HEADER_SAFE = string.printable.strip() + " "

log = logging.getLogger("eventarc_bridge")


class BadMessage(ValueError):
    """The push body is not a GCS notification we can read."""


def _decode_object(message: dict[str, Any]) -> dict[str, Any]:
    try:
        resource = json.loads(base64.b64decode(message["data"], validate=True))
    except (KeyError, TypeError, binascii.Error, ValueError) as exc:
        raise BadMessage(f"message data is not a base64 JSON object resource: {exc}") from exc
    if not isinstance(resource, dict):
        raise BadMessage("message data is not a JSON object")
    return resource


def to_cloud_event(message: dict[str, Any]) -> CloudEvent | None:
    """The Eventarc CloudEvent for a GCS notification, or None when it is not a finalize."""
    attributes = message.get("attributes") or {}
    if attributes.get("eventType") != "OBJECT_FINALIZE":
        return None
    resource = _decode_object(message)
    bucket = resource.get("bucket") or attributes.get("bucketId")
    name = resource.get("name") or attributes.get("objectId")
    if not bucket or not name:
        raise BadMessage("notification names no bucket or object")
    # fake-gcs omits metageneration; real object resources always carry it.
    resource.setdefault("metageneration", "1")
    when = resource.get("updated") or attributes.get("eventTime") or message.get("publishTime")
    event_attributes = {
        "type": FINALIZED_TYPE,
        "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
        "subject": f"objects/{name}",
        "time": when,
        "datacontenttype": "application/json",
        "bucket": bucket,
    }
    message_id = message.get("messageId") or message.get("message_id")
    if message_id:
        event_attributes["id"] = str(message_id)
    return CloudEvent(event_attributes, resource)


def _wire_headers(headers: dict[str, str]) -> dict[str, str]:
    return {key: quote(value, safe=_HEADER_SAFE) for key, value in headers.items()}


def forward(event: CloudEvent, target: str) -> int:
    """POST the event in binary mode; the HTTP status, or 0 when the target is unreachable."""
    headers, body = to_binary(event)
    try:
        response = requests.post(
            target, data=body, headers=_wire_headers(headers), timeout=FORWARD_TIMEOUT_S
        )
    except requests.RequestException as exc:
        log.warning("target %s unreachable: %s", target, exc)
        return 0
    return response.status_code


def create_app(target: str) -> Flask:
    app = Flask("eventarc_bridge")

    @app.post("/")
    def receive() -> tuple[str, int]:
        envelope = request.get_json(silent=True)
        message = envelope.get("message") if isinstance(envelope, dict) else None
        if not isinstance(message, dict):
            log.warning("rejected a body that is not a Pub/Sub push envelope")
            return "not a Pub/Sub push envelope\n", 400
        try:
            event = to_cloud_event(message)
        except BadMessage as exc:
            log.warning("rejected message %s: %s", message.get("messageId"), exc)
            return f"{exc}\n", 400
        if event is None:
            return "", 204
        status = forward(event, target)
        log.info("event %s %s %s -> %s", event["id"], event["source"], event["subject"], status)
        return ("", 204) if 200 <= status < 300 else (f"target answered {status}\n", 502)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--target", required=True, help="URL of the CloudEvent function")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # One line per event is logged above; werkzeug's colored access lines only add noise.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    create_app(args.target).run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
