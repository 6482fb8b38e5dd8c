"""Every log line is Cloud Logging JSON; no request ever logs its API key or signed URLs."""

from __future__ import annotations

import io
import json
import logging
import sys

from tests.support.fakes import fake_api_deps
from tests.support.logs import captured
from vss.api.app import create_app
from vss.observability import CloudLoggingFormatter, current_trace
from vss.service import auth


def test_record_becomes_one_json_line_with_trace_and_labels():
    formatter = CloudLoggingFormatter("vss-local")
    token = current_trace.set("abc123")
    try:
        record = logging.LogRecord("vss", logging.WARNING, __file__, 1, "stage failed: %s",
                                   ("boom",), None)
        record.task_id = "task-1"
        record.api_key = "vss_secret"  # not a label: never emitted
        line = json.loads(formatter.format(record))
    finally:
        current_trace.reset(token)
    assert line["severity"] == "WARNING" and line["message"] == "stage failed: boom"
    assert line["task_id"] == "task-1"
    assert line["logging.googleapis.com/labels"] == {"task_id": "task-1"}
    assert line["logging.googleapis.com/trace"] == "projects/vss-local/traces/abc123"
    assert "vss_secret" not in json.dumps(line)


def test_library_text_quoting_a_secret_is_masked_in_message_and_stack_trace():
    formatter = CloudLoggingFormatter("vss-local", secrets=["my-gemini-key-123"])
    try:
        raise RuntimeError("401 for https://x/v1?key=my-gemini-key-123 "
                           "sig=AIzaSyA1234567890abcdefghij")
    except RuntimeError:
        record = logging.LogRecord("vss", logging.ERROR, __file__, 1, "call failed: %s",
                                   ("key my-gemini-key-123",), sys.exc_info())
    line = formatter.format(record)
    assert "my-gemini-key-123" not in line and "AIzaSyA1234567890" not in line
    assert json.loads(line)["message"] == "call failed: key ***"


def test_api_requests_log_json_and_no_secret(blueprint_bytes: bytes):
    with captured(logging.DEBUG) as lines:
        deps = fake_api_deps()
        creds = auth.create_tenant(deps, "acme")
        client = create_app(deps).test_client()
        headers = {"X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key,
                   "X-Cloud-Trace-Context": "feedbeef/1;o=1"}
        upload = client.post("/api/v1/files/upload/", headers=headers,
                             data={"file": (io.BytesIO(blueprint_bytes), "b.json")})
        signed = client.post("/api/v1/files/upload/", headers=headers,
                             json={"filename": "s.json", "size": 10})
        client.post("/api/v1/tasks/", headers=headers, json={
            "task_type": "GENERATE_NARRATION",
            "payload": {"blueprint_path": upload.get_json()["relative_path"]}})
        client.get("/api/v1/tasks/", headers={**headers, "X-Api-Key": "vss_wrong"})
    assert lines and all("severity" in x and "message" in x for x in lines)
    text = json.dumps(lines, ensure_ascii=False)
    assert creds.api_key not in text and "vss_wrong" not in text
    assert signed.get_json()["upload_url"] not in text
    assert any(x.get("logging.googleapis.com/trace", "").endswith("/feedbeef") for x in lines)
