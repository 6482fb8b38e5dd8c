"""What the entry points' shared helpers do: decode and filter Pub/Sub events, tame the
framework's logs, and record each instance's start."""

from __future__ import annotations

import ast
import base64
import importlib.metadata
import logging
from datetime import UTC, datetime, timedelta

import pytest
from cloudevents.http import CloudEvent
from google.api_core.exceptions import PermissionDenied

from tests.support.fakes import FakeFunctionStarts, fake_deps
from tests.support.logs import captured
from tests.support.paths import ROOT
from vss import events
from vss.config import Settings
from vss.deps import Deps
from vss.domain.dead_letters import SOURCE_DELIVERY_COUNT, Delivery
from vss.domain.function_starts import DISTRIBUTION, FUNCTIONS
from vss.domain.messages import SegmentMessage, StageMessage, StorageNotification
from vss.errors import RetryableError, StageBusy
from vss.events import RetriesAreWarnings, dead_letter_entry, pubsub_entry
from vss.observability import TRACE_ATTRIBUTE, current_trace


def _framework_logs(error: Exception) -> list[dict[str, object]]:
    """What the functions framework logs when a function raises `error` (Flask logs it with
    `logger.exception`), through a handler with the filter the entry points install."""
    with captured() as lines:
        handler = logging.getLogger().handlers[-1]
        handler.addFilter(RetriesAreWarnings())
        try:
            raise error
        except Exception:
            logging.getLogger("functions_framework").exception("Exception on / [POST]")
    return lines


def test_a_try_later_outcome_is_one_warning_without_a_traceback():
    for error in (StageBusy("The stage is running elsewhere."), RetryableError("upstream 503")):
        (line,) = _framework_logs(error)
        assert line["severity"] == "WARNING" and "stack_trace" not in line
        assert line["message"] == f"sent back for a later delivery: {error.args[0]}"


def test_an_unexpected_exception_stays_an_error_with_its_traceback():
    (line,) = _framework_logs(ValueError("a bug"))
    assert line["severity"] == "ERROR" and "ValueError: a bug" in str(line["stack_trace"])


def _event(data: bytes, *, age_seconds: float = 0, attributes: dict[str, str] | None = None
           ) -> CloudEvent:
    sent = datetime.now(UTC) - timedelta(seconds=age_seconds)
    return CloudEvent(
        {"id": "e1", "source": "//pubsub", "type": "google.cloud.pubsub.topic.v1.messagePublished",
         "time": sent.isoformat()},
        {"message": {"data": base64.b64encode(data).decode(), "attributes": attributes or {}}})


def test_a_pubsub_entry_point_gets_the_decoded_message_under_its_trace():
    seen: list[tuple[object, str | None]] = []

    @pubsub_entry(StageMessage, SegmentMessage, max_age_seconds=60)
    def worker(message: StageMessage | SegmentMessage) -> None:
        seen.append((message, current_trace.get()))

    segment = SegmentMessage(task_id="t1", plan="p1", index=3)
    worker(_event(segment.model_dump_json().encode(), attributes={TRACE_ATTRIBUTE: "abc"}))
    assert seen == [(segment, "abc")] and current_trace.get() is None
    assert worker.__name__ == "worker"  # functions-framework registers it by this name


def test_stale_malformed_or_dropped_events_never_reach_the_work():
    seen: list[object] = []

    @pubsub_entry(StageMessage, max_age_seconds=60, drop=lambda e: e.data.get("drop", False))
    def worker(message: StageMessage) -> None:
        seen.append(message)

    fresh = StageMessage(task_id="t1", stage="narration").model_dump_json().encode()
    with captured() as lines:
        worker(_event(fresh, age_seconds=120))
        worker(_event(b"{not json"))
        dropped = _event(fresh)
        dropped.data["drop"] = True
        worker(dropped)
    assert seen == []
    assert [line["message"] for line in lines] == ["stale message dropped",
                                                   "malformed message dropped"]


def test_the_dead_letter_entry_hands_over_each_kind_with_its_delivery():
    seen: list[tuple[Delivery, object]] = []

    @dead_letter_entry
    def on_dead_letter(delivery: Delivery, message: object) -> None:
        seen.append((delivery, message))

    stage = StageMessage(task_id="t1", stage="narration")
    storage = {"bucketId": "b", "objectId": "tenants/t1/uploads/f/x.json",
               "eventType": "OBJECT_FINALIZE"}
    with captured() as lines:
        # Hours old: a dead letter is not dropped for its age.
        on_dead_letter(_event(stage.model_dump_json().encode(), age_seconds=86_400,
                              attributes={SOURCE_DELIVERY_COUNT: "8"}))
        on_dead_letter(_event(b"not an object resource", attributes=storage))
        on_dead_letter(_event(b"{not json"))
    assert seen == [
        (Delivery("e1", {SOURCE_DELIVERY_COUNT: "8"}), stage),
        (Delivery("e1", storage), StorageNotification(
            bucket="b", name="tenants/t1/uploads/f/x.json", event_type="OBJECT_FINALIZE")),
    ]
    assert seen[0][0].delivery_attempts == 8
    assert [line["message"] for line in lines] == ["malformed message dropped"]


def _init(monkeypatch: pytest.MonkeyPatch, deps: Deps, name: str | None = "dead_letter",
          **settings: object) -> list[dict[str, object]]:
    """`init_function` as a function's import runs it, on `deps`; what it logged."""
    monkeypatch.setattr(events, "get_settings", lambda: Settings(**settings))  # type: ignore[arg-type]
    with captured() as lines:
        assert events.init_function(lambda _: deps, name) is deps
    return lines


def test_a_function_records_its_start_once_when_it_starts(monkeypatch: pytest.MonkeyPatch):
    deps = fake_deps()
    monkeypatch.setenv("K_REVISION", "vss-dead-letter-00042-abc")
    lines = _init(monkeypatch, deps, source_sha256="f" * 64)
    assert isinstance(deps.starts, FakeFunctionStarts)
    start = deps.starts.starts["dead_letter"]
    assert (start.function, start.revision, start.source_sha256, start.started_at) == (
        "dead_letter", "vss-dead-letter-00042-abc", "f" * 64, deps.clock())
    # This checkout's installed distribution; the deployed archives carry none (None then).
    assert start.version == importlib.metadata.version(DISTRIBUTION)
    assert any(x["message"].startswith("dead_letter started: version ") for x in lines)


def test_a_start_that_cannot_be_recorded_does_not_stop_the_function(
    monkeypatch: pytest.MonkeyPatch,
):
    deps = fake_deps()
    monkeypatch.delenv("K_REVISION", raising=False)
    assert isinstance(deps.starts, FakeFunctionStarts)
    deps.starts.fail_with = PermissionDenied("datastore.entities.update")
    lines = _init(monkeypatch, deps)
    assert deps.starts.starts == {}
    assert [(x["severity"], x["message"]) for x in lines] == [
        ("WARNING", "start of dead_letter not recorded: PermissionDenied")]


def test_no_start_is_recorded_when_told_not_to_or_without_a_name(
    monkeypatch: pytest.MonkeyPatch,
):
    deps = fake_deps()
    _init(monkeypatch, deps, record_starts=False)
    _init(monkeypatch, deps, name=None)
    assert deps.starts.latest() == []


def test_every_function_names_itself_as_its_folder():
    """The name a function records its start under is its folder's, the name the topology,
    Terraform and the console's health page use."""
    for main in sorted((ROOT / "functions").glob("*/main.py")):
        calls = [node for node in ast.walk(ast.parse(main.read_text()))
                 if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "init_function"]
        assert len(calls) == 1, main
        assert [a.value for a in calls[0].args[1:] if isinstance(a, ast.Constant)] == [
            main.parent.name], main
        assert main.parent.name in FUNCTIONS


@pytest.mark.parametrize(("workers", "processes"), [
    (None, 1), ("1", 1), ("16", 16), ("0", 1), ("many", 1)])
def test_the_processes_functions_framework_forks_are_read_as_its_gunicorn_reads_them(
        monkeypatch, workers, processes):
    if workers is None:
        monkeypatch.delenv("WORKERS", raising=False)
    else:
        monkeypatch.setenv("WORKERS", workers)
    assert events.forked_processes() == processes
