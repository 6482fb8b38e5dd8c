"""The pure parts of the edge CLI: where the connection comes from, polling backoff, the
state file, checksums of a download, which artifacts a task's results name."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.fake_edge_api import API, FakeEdgeApi, goog_hash
from vss.config import load_local_env
from vss.edge.backoff import Backoff, retry_after
from vss.edge.checksums import (
    BY_HASH,
    BY_LENGTH,
    UNCHECKED,
    ChecksumMismatch,
    StreamHashes,
    parse_goog_hash,
    verify,
)
from vss.edge.client import ApiError, EdgeClient, content_type_of
from vss.edge.connection import Connection, ConnectionUnset, resolve_connection
from vss.edge.downloads import local_names
from vss.edge.follow import StageClock, follow
from vss.edge.progress import QuietDisplay, stage_line
from vss.edge.run import artifact_paths, failed_stage
from vss.edge.state import (
    STATE_FILE,
    DatasetState,
    FileState,
    RunState,
    fingerprint,
    is_present,
    load_state,
    save_state,
)
from vss.errors import RetryableError

ENV = {"VSS_API_URL": "http://127.0.0.1:8090/", "VSS_INSTANCE_ID": "i_env",
       "VSS_API_KEY": "k_env"}


# ------------------------------------------------------------------------- connection

def test_flags_win_over_the_environment():
    flags = {"api_url": "https://api.example.com", "instance_id": "i_flag", "api_key": None}
    connection = resolve_connection(flags, ENV)
    assert connection == Connection("https://api.example.com", "i_flag", "k_env")
    assert resolve_connection({}, ENV).api_url == "http://127.0.0.1:8090"  # no trailing /


def test_the_local_env_file_fills_only_what_is_unset(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "local.env").write_text("VSS_API_URL=http://127.0.0.1:8390\n"
                                        "VSS_INSTANCE_ID=i_file\n")
    monkeypatch.setenv("VSS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("VSS_INSTANCE_ID", "i_shell")
    monkeypatch.setenv("VSS_API_KEY", "k_shell")
    monkeypatch.delenv("VSS_API_URL", raising=False)
    load_local_env()  # what `vss` does first
    connection = resolve_connection({}, os.environ)
    assert connection == Connection("http://127.0.0.1:8390", "i_shell", "k_shell")


def test_every_missing_setting_is_named_with_how_to_set_it():
    with pytest.raises(ConnectionUnset) as missing:
        resolve_connection({"api_url": "http://h"}, {"VSS_API_KEY": "  "})
    text = str(missing.value)
    assert "--instance-id or VSS_INSTANCE_ID" in text and "--api-key or VSS_API_KEY" in text
    assert "--api-url" not in text
    with pytest.raises(ConnectionUnset, match="must be http"):
        resolve_connection({"api_url": "127.0.0.1:8090"}, ENV)


def test_the_key_stays_out_of_a_repr():
    assert "k_env" not in repr(resolve_connection({}, ENV))


# ------------------------------------------------------------------------- backoff

def test_backoff_grows_to_its_cap_and_starts_over_on_reset():
    backoff = Backoff(initial=0.5, factor=2, maximum=3, jitter=0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5


def test_backoff_jitter_stays_within_its_fraction():
    low = Backoff(initial=1, maximum=1, jitter=0.1, random=lambda: 0.0)
    high = Backoff(initial=1, maximum=1, jitter=0.1, random=lambda: 0.999999)
    assert low.next() == pytest.approx(0.9) and high.next() == pytest.approx(1.1)
    with pytest.raises(ValueError):
        Backoff(initial=5, maximum=1)


def test_retry_after_reads_seconds_and_bounds_them():
    assert retry_after("7", 1.0) == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1.5) == 1.5
    assert retry_after(None, 2.0) == 2.0
    assert retry_after("3600", 1.0) == 60.0


# ------------------------------------------------------------------------- state file

def _state(**fields: Any) -> RunState:
    return RunState(fingerprint="f", api_url=API, instance_id="i_1",
                    dataset=DatasetState(file="/d.json", sha256="ab"), **fields)


def test_state_round_trips_and_is_written_whole(tmp_path: Path):
    state = _state(task_id="t1", files={"tasks/t1/a.wav": FileState(
        name="a.wav", size=3, sha256="x", checked=BY_HASH)})
    save_state(tmp_path, state)
    assert load_state(tmp_path) == state
    assert [p.name for p in tmp_path.iterdir()] == [STATE_FILE]  # no temporary left behind


def test_an_unreadable_or_foreign_state_is_ignored(tmp_path: Path):
    assert load_state(tmp_path) is None
    (tmp_path / STATE_FILE).write_text("{half a file")
    assert load_state(tmp_path) is None
    (tmp_path / STATE_FILE).write_text(json.dumps({**_state().model_dump(), "version": 99}))
    assert load_state(tmp_path) is None


def test_the_fingerprint_follows_dataset_options_and_caller():
    base = fingerprint("sha", {"stop_at": "editing"}, API, "i_1")
    assert base == fingerprint("sha", {"stop_at": "editing"}, API, "i_1")
    assert len({base, fingerprint("sha2", {"stop_at": "editing"}, API, "i_1"),
                fingerprint("sha", {"stop_at": "dubbing"}, API, "i_1"),
                fingerprint("sha", {"stop_at": "editing"}, "http://other", "i_1"),
                fingerprint("sha", {"stop_at": "editing"}, API, "i_2")}) == 5


def test_a_recorded_file_counts_only_with_its_bytes(tmp_path: Path):
    data = b"RIFF....WAVE"
    record = FileState(name="a.wav", size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                       checked=BY_HASH)
    assert not is_present(tmp_path, record)
    (tmp_path / "a.wav").write_bytes(data)
    assert is_present(tmp_path, record)
    (tmp_path / "a.wav").write_bytes(data[::-1])  # same size, other bytes
    assert not is_present(tmp_path, record)


# ------------------------------------------------------------------------- checksums

def test_goog_hash_header_parsing():
    assert parse_goog_hash("crc32c=n03x6A==,md5=Ojk9c3dhfxgoKVVHYwFbHQ==") == {
        "crc32c": "n03x6A==", "md5": "Ojk9c3dhfxgoKVVHYwFbHQ=="}
    assert parse_goog_hash("crc32c=AAAAAA==, md5=AA==") == {"crc32c": "AAAAAA==", "md5": "AA=="}
    assert parse_goog_hash(None) == {} and parse_goog_hash("garbage") == {}


def test_hashes_match_what_storage_computes():
    # Reference values from Cloud Storage's documentation of x-goog-hash for "hello world".
    hashes = StreamHashes()
    for chunk in (b"hello", b" ", b"world"):
        hashes.update(chunk)
    assert hashes.goog()["md5"] == base64.b64encode(
        hashlib.md5(b"hello world").digest()).decode()
    assert hashes.goog()["crc32c"] == "yZRlqg=="
    assert verify(hashes, goog_hash(b"hello world"), "11") == BY_HASH


def test_a_mismatch_is_refused_and_the_length_is_the_fallback():
    hashes = StreamHashes()
    hashes.update(b"hello world")
    with pytest.raises(ChecksumMismatch, match="crc32c"):
        verify(hashes, goog_hash(b"hello there"), "11")
    only_md5 = f"md5={base64.b64encode(hashlib.md5(b'x').digest()).decode()}"
    with pytest.raises(ChecksumMismatch, match="md5"):
        verify(hashes, only_md5, None)  # a composite object has no md5; a lone one counts
    assert verify(hashes, None, "11") == BY_LENGTH
    with pytest.raises(ChecksumMismatch, match="length"):
        verify(hashes, None, "12")
    assert verify(hashes, None, None) == UNCHECKED


# ------------------------------------------------------------------------- artifacts

RESULTS = {
    "editing": {"output_file_path": "tasks/t/editing_script.json",
                "report_file_path": "tasks/t/editing_report.json",
                "exports": {"otio": "tasks/t/timeline.otio", "edl": "tasks/t/timeline.edl"},
                "valid": True, "segments": 4},
    "narration": {"output_file_path": "tasks/t/narration.json", "engine": "offline",
                  "notes": ["tasks are fun"]},
    "dubbing_assembly": {"output_file_path": "tasks/t/dubbing_script.json",
                         "narration_track_path": "tasks/t/narration_track.wav",
                         "subtitles_srt_path": None},
}


def test_every_artifact_the_results_name_stage_by_stage():
    assert artifact_paths(RESULTS) == [
        "tasks/t/narration.json", "tasks/t/dubbing_script.json", "tasks/t/narration_track.wav",
        "tasks/t/editing_script.json", "tasks/t/editing_report.json", "tasks/t/timeline.otio",
        "tasks/t/timeline.edl"]
    listed = {"editing": {"output_file_path": "tasks/t/e.json",
                          "exports": [{"format": "edl", "path": "tasks/t/x.edl"}]}}
    assert artifact_paths(listed) == ["tasks/t/e.json", "tasks/t/x.edl"]


def test_artifacts_keep_their_basenames_unless_two_collide():
    names = [w.name for w in local_names(["tasks/t/a/seg_000.wav", "tasks/t/b/seg_000.wav",
                                          "tasks/t/c.json", "tasks/t/c.json"])]
    assert names == ["seg_000.wav", "b_seg_000.wav", "c.json"]


def test_content_types_the_api_signs_for():
    assert content_type_of(Path("b.json")) == "application/json"
    assert content_type_of(Path("EP01.SRT")) == "application/x-subrip"
    assert content_type_of(Path("x.ass")) == "text/x-ssa"


# ------------------------------------------------------------------------- following a task

def test_stage_line_and_failed_stage():
    view = {"status": "RUNNING", "stage": "dubbing_assembly",
            "stages": ["narration", "dubbing", "dubbing_assembly", "editing"],
            "progress": {"stage": "dubbing_assembly", "done": 12, "total": 30},
            "results": {"narration": {}, "dubbing": {}}}
    assert stage_line(view) == "dubbing_assembly (3/4), 12/30 segments"
    assert failed_stage({**view, "status": "FAILED", "stage": None}) == "dubbing_assembly"


def test_stage_clock_times_each_stage_as_polls_see_it():
    now = [0.0]
    clock = StageClock(lambda: now[0])
    for t, stage, status in ((0, "narration", "RUNNING"), (2, "narration", "RUNNING"),
                             (3, "dubbing", "RUNNING"), (10, None, "COMPLETED")):
        now[0] = t
        clock.observe({"stage": stage, "status": status})
    assert clock.seconds == {"narration": 3.0, "dubbing": 7.0}
    assert clock.between_polls == []
    quick = StageClock(lambda: now[0])
    quick.observe({"stage": "dubbing_assembly", "status": "RUNNING",
                   "results": {"narration": {}, "dubbing": {}}})  # done before we looked
    quick.observe({"stage": None, "status": "COMPLETED",
                   "results": {"narration": {}, "dubbing": {}, "dubbing_assembly": {},
                               "editing": {}}})
    assert quick.between_polls == ["editing"]


class _Flaky(FakeEdgeApi):
    """Refuses the first polls (a restarting API), then behaves."""

    def __init__(self, failures: list[int]) -> None:
        super().__init__()
        self.failures = failures

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.method == "GET" and "/tasks/" in (request.url or "") and self.failures:
            status = self.failures.pop(0)
            if status == 0:
                raise requests.ConnectionError("connection refused")
            return self._json(request, status, RetryableError("busy").to_dict())
        return super().send(request, **kwargs)


def test_follow_rides_out_an_unreachable_or_busy_api():
    api = _Flaky([0, 503, 429])
    client = EdgeClient(API, "i_1", "key", session=api.session(), storage=api.session())
    task = client.create_task("GENERATE_COMMENTARY", {"blueprint_path": "uploads/x/b.json",
                                                      "stop_at": "narration"})
    slept: list[float] = []
    done = follow(client, task, QuietDisplay(), timeout=60, sleep=slept.append,
                  backoff=Backoff(jitter=0))
    assert done["status"] == "COMPLETED" and api.failures == []
    assert len(slept) >= 3


def test_follow_stops_at_a_client_error():
    api = _Flaky([404])
    client = EdgeClient(API, "i_1", "key", session=api.session(), storage=api.session())
    task = client.create_task("GENERATE_COMMENTARY", {"blueprint_path": "uploads/x/b.json"})
    with pytest.raises(ApiError) as refused:
        follow(client, task, QuietDisplay(), timeout=60, sleep=lambda _: None)
    assert refused.value.status == 404
