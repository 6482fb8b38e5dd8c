"""`vss run` and the API commands on an in-process fake of the API and its storage
(tests/support/fake_edge_api.py): what a first run does, what a second run does not do again,
a FAILED task resumed, downloads verified, and each failure as one line with the server's code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.fake_edge_api import API, FakeEdgeApi, fake_client, run_against
from vss.cli import main
from vss.edge import api_commands
from vss.edge.connection import Connection
from vss.edge.downloads import RateLimit
from vss.edge.progress import QuietDisplay
from vss.edge.run import CommentaryRun, DownloadsFailed, RunOptions, TaskEnded
from vss.edge.state import STATE_FILE, load_state
from vss.errors import InvalidTransition, NotFound, PayloadInvalid, TtsError

DATASET = b'{"chapters": {}, "scenes": {}}'
ARTIFACTS = {"narration.json", "dubbing_plan.json", "dubbing_script.json", "narration_track.wav",
             "narration.srt", "narration.vtt", "seg_000.wav", "seg_001.wav", "seg_002.wav",
             "editing_script.json", "editing_report.json", "timeline.otio", "timeline.edl"}


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "blueprint.json"
    path.write_bytes(DATASET)
    return path


def test_a_run_uploads_runs_and_downloads_every_artifact_verified(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi()
    out = tmp_path / "out"
    outcome = run_against(api, dataset, out, payload={"stop_at": "editing"})

    assert outcome.view["status"] == "COMPLETED"
    assert outcome.uploaded and outcome.created and not outcome.resumed
    assert set(outcome.downloaded) == ARTIFACTS and outcome.skipped == []
    uploaded = [p for p in api.files if p.startswith("uploads/")]
    assert [api.files[p] for p in uploaded] == [DATASET]  # through the signed PUT
    for relative, record in outcome.state.files.items():
        assert (out / record.name).read_bytes() == api.files[relative]
        assert record.checked == "recorded sha256"
    task = api.tasks[outcome.view["id"]]
    assert task.payload["blueprint_path"] == uploaded[0]
    state = load_state(out)
    assert state is not None and state.task_id == task.id and state.status == "COMPLETED"
    assert {"narration", "dubbing", "dubbing_assembly", "editing", "download"} <= set(
        state.timings)
    assert not list(out.glob("*.part"))


def test_a_second_run_redoes_nothing(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi()
    out = tmp_path / "out"
    first = run_against(api, dataset, out)
    gets, calls = api.storage_gets(), dict(api.calls)

    second = run_against(api, dataset, out)
    assert second.view["id"] == first.view["id"]
    assert not second.uploaded and not second.created and not second.resumed
    assert second.downloaded == [] and set(second.skipped) == ARTIFACTS
    assert api.storage_gets() == gets  # no file fetched again
    assert api.calls["POST tasks"] == calls["POST tasks"] == 1
    assert api.calls["PUT storage"] == 1


def test_a_missing_or_altered_file_is_fetched_again_alone(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi()
    out = tmp_path / "out"
    run_against(api, dataset, out)
    (out / "seg_001.wav").unlink()
    (out / "timeline.edl").write_text("edited by hand")
    again = run_against(api, dataset, out)
    assert sorted(again.downloaded) == ["seg_001.wav", "timeline.edl"]


def test_other_options_or_another_dataset_start_a_new_task(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi()
    out = tmp_path / "out"
    first = run_against(api, dataset, out, payload={"stop_at": "editing"})
    other = run_against(api, dataset, out, payload={"stop_at": "narration"})
    assert other.created and other.view["id"] != first.view["id"]
    assert other.view["stages"] == ["narration"] and other.downloaded == ["narration.json"]
    dataset.write_bytes(DATASET.replace(b"{}", b"{ }", 1))
    third = run_against(api, dataset, out, payload={"stop_at": "narration"})
    assert third.uploaded and third.created
    assert api.calls["PUT storage"] == 2


def test_a_run_killed_mid_poll_continues_the_same_task(dataset: Path, tmp_path: Path):
    """The state names the task as soon as it exists: a run stopped while polling (here: the
    first poll raises, as Ctrl-C would) is continued by the next, without a second task."""
    api = FakeEdgeApi()
    out = tmp_path / "out"
    client = fake_client(api)
    opts = RunOptions(dataset=dataset, out=out, payload={})
    polls = 0

    def interrupt(_: float) -> None:
        nonlocal polls
        polls += 1
        if polls == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        CommentaryRun(client, opts, QuietDisplay(), api_url=API, instance_id="i_1",
                      sleep=interrupt).run()
    state = load_state(out)
    assert state is not None and state.task_id and state.files == {}
    again = run_against(api, dataset, out)
    assert again.view["id"] == state.task_id and not again.created and not again.uploaded
    assert api.calls["POST tasks"] == 1


def test_a_failed_task_is_reported_then_resumed_by_the_next_run(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi(fail_at="dubbing_assembly")
    out = tmp_path / "out"
    with pytest.raises(TaskEnded) as ended:
        run_against(api, dataset, out)
    view = ended.value.view
    assert view["status"] == "FAILED" and view["error"]["code"] == TtsError.code
    # What the finished stage made is downloaded all the same.
    assert (out / "narration.json").is_file() and (out / "dubbing_plan.json").is_file()

    with pytest.raises(TaskEnded):  # --no-resume reports it again and changes nothing
        run_against(api, dataset, out, resume=False)
    again = run_against(api, dataset, out)
    assert again.resumed and not again.created and again.view["id"] == view["id"]
    assert again.view["status"] == "COMPLETED"
    assert "narration.json" in again.skipped and "narration.json" not in again.downloaded
    assert api.calls["POST tasks"] == 1 and api.calls["POST tasks/<id>/resume"] == 1


def test_a_canceled_or_vanished_task_is_replaced(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi()
    out = tmp_path / "out"
    first = run_against(api, dataset, out)
    api.tasks[first.view["id"]].status = "CANCELED"
    second = run_against(api, dataset, out)
    assert second.created and second.view["id"] != first.view["id"]
    assert not second.uploaded  # the dataset is still there
    del api.tasks[second.view["id"]]
    api.files = {p: d for p, d in api.files.items() if not p.startswith("uploads/")}
    third = run_against(api, dataset, out)
    assert third.created and third.uploaded  # the upload was gone too


def test_a_corrupt_download_is_refused_and_not_recorded(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi()
    api.corrupt_next = "narration.json"
    out = tmp_path / "out"
    with pytest.raises(DownloadsFailed, match=r"(crc32c|md5) mismatch"):
        run_against(api, dataset, out, payload={"stop_at": "narration"})
    assert not (out / "narration.json").exists() and not list(out.glob("*.part"))
    state = load_state(out)
    assert state is not None and state.status == "COMPLETED" and state.files == {}

    api.corrupt.clear()  # the next run fetches it again, from the same task
    again = run_against(api, dataset, out, payload={"stop_at": "narration"})
    assert again.downloaded == ["narration.json"] and not again.created
    assert (out / "narration.json").read_bytes() == api.files[
        next(iter(again.state.files))]


def test_without_a_hash_the_length_is_checked_and_said(dataset: Path, tmp_path: Path):
    api = FakeEdgeApi(hashes=False, digests=False)
    outcome = run_against(api, dataset, tmp_path / "out", payload={"stop_at": "narration"})
    assert [f.checked for f in outcome.state.files.values()] == ["content-length"]


def test_a_rate_limit_spaces_the_chunks_over_all_threads():
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limit = RateLimit(10_000, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limit.take(5_000)
    assert waits == [0.5, 0.5, 0.5]  # the first chunk goes at once, then 5 kB per 0.5 s
    assert now[0] == pytest.approx(1.5)
    unlimited = RateLimit(None, clock=lambda: 0.0, sleep=sleep)
    unlimited.take(10**9)
    assert len(waits) == 3


def test_run_downloads_under_the_rate_limit(dataset: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch):
    from vss.edge import downloads

    slept: list[float] = []
    monkeypatch.setattr(downloads.time, "sleep", slept.append)
    run_against(FakeEdgeApi(), dataset, tmp_path / "out", limit_rate=10_000.0, parallel=2)
    assert slept and max(slept) > 0.1  # 13 files, ~10 kB: the limit held them back


# ------------------------------------------------------------------------- the commands


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeEdgeApi:
    fake = FakeEdgeApi()
    connection = Connection(API, "i_1", "key")
    monkeypatch.setattr(api_commands, "_client", lambda args: (fake_client(fake), connection))
    monkeypatch.setattr("vss.edge.follow.time.sleep", lambda _: None)
    monkeypatch.setattr("vss.edge.run.time.sleep", lambda _: None)
    return fake


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_run_json_summary(api: FakeEdgeApi, dataset: Path, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]):
    code, out, err = _cli(capsys, "run", str(dataset), "--out", str(tmp_path / "o"), "--json",
                          "--lang", "en", "--minutes", "1.5", "--template", "default",
                          "--until", "dubbing", "--param", "editing.max_clip_seconds=4")
    assert code == 0 and err == ""
    summary = json.loads(out)
    assert summary["status"] == "COMPLETED" and summary["created"]
    assert set(summary["results"]) == {"narration", "dubbing", "dubbing_assembly"}
    # This fake sends no ETag: every poll fetched the task (tests/unit/edge/test_edge_polling.py
    # polls the real app, which answers 304s).
    assert summary["polls"] == {"fetched": api.calls["GET tasks/<id>"], "not_modified": 0}
    payload = api.tasks[summary["task_id"]].payload
    assert payload["stop_at"] == "dubbing" and payload["asset_name"] == "blueprint"
    assert payload["narration"] == {"lang": "en",
                                    "control_params": {"target_duration_minutes": 1.5}}
    assert payload["dubbing"] == {"target_lang": "en", "template_name": "default"}
    assert payload["editing"] == {"lang": "en", "max_clip_seconds": 4}
    assert (tmp_path / "o" / STATE_FILE).is_file()


def test_run_prints_a_summary_table(api: FakeEdgeApi, dataset: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]):
    code, out, err = _cli(capsys, "run", str(dataset), "--out", str(tmp_path / "o"))
    assert code == 0, err
    assert "COMPLETED" in out and "editing_script.json" in out and "recorded sha256" in out
    assert "all 13 files match the sha256 their task recorded" in out


def test_a_failed_task_is_one_line_with_the_server_code(api: FakeEdgeApi, dataset: Path,
                                                        tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]):
    api.invalid_dataset = True
    code, out, err = _cli(capsys, "run", str(dataset), "--out", str(tmp_path / "o"))
    assert code == 2 and out == ""
    task_id = next(iter(api.tasks))
    # Progress lines come first (stderr is not a terminal here); the error is the last line.
    assert err.splitlines()[-1] == (
        f"vss: task {task_id} FAILED at narration: error {PayloadInvalid.code}: The dataset is "
        "invalid. (/scenes/1/start_time: not a timecode)")
    assert "Traceback" not in err
    code, out, err = _cli(capsys, "task", "get", task_id, "--json")
    assert code == 0 and json.loads(out)["error"]["code"] == PayloadInvalid.code


def test_a_refused_request_is_one_line_and_json_for_scripts(api: FakeEdgeApi,
                                                            capsys: pytest.CaptureFixture[str]):
    code, out, err = _cli(capsys, "task", "create", "GENERATE_COMMENTARY", "--payload", "{}",
                          "--json")
    assert code == 2
    assert err == (f"vss: error {PayloadInvalid.code}: Payload is invalid. "
                   "(/payload/blueprint_path: Field required) (HTTP 400)\n")
    assert json.loads(out)["error"]["code"] == PayloadInvalid.code
    code, out, err = _cli(capsys, "task", "get", "nope")
    assert (code, out, err) == (2, "", f"vss: error {NotFound.code}: No such task. (HTTP 404)\n")
    code, out, err = _cli(capsys, "task", "create", "X", "--payload", "[1]")
    assert (code, err) == (2, "vss: --payload must be a JSON object\n")


def test_task_commands(api: FakeEdgeApi, dataset: Path, tmp_path: Path,
                       capsys: pytest.CaptureFixture[str]):
    code, relative, _ = _cli(capsys, "upload", str(dataset))
    assert code == 0 and api.files[relative.strip()] == DATASET
    payload = tmp_path / "payload.json"
    payload.write_text(json.dumps({"blueprint_path": relative.strip(), "stop_at": "narration"}))
    code, task_id, _ = _cli(capsys, "task", "create", "GENERATE_COMMENTARY",
                            "--payload", f"@{payload}")
    task_id = task_id.strip()
    assert code == 0 and task_id in api.tasks
    code, out, _ = _cli(capsys, "task", "wait", task_id)
    assert (code, out) == (0, f"{task_id}  GENERATE_COMMENTARY  COMPLETED\n")
    code, out, err = _cli(capsys, "task", "resume", task_id)
    assert code == 2 and err == f"vss: error {InvalidTransition.code}: Not FAILED. (HTTP 409)\n"
    api.fail_at = "dubbing"
    code, out, _ = _cli(capsys, "task", "create", "GENERATE_COMMENTARY", "--payload",
                        json.dumps({"blueprint_path": relative.strip()}), "--wait", "--json")
    failed = json.loads(out)["task"]
    assert code == 2 and failed["status"] == "FAILED"
    code, out, _ = _cli(capsys, "task", "resume", failed["id"])
    assert code == 0 and "dubbing" in out
    code, out, _ = _cli(capsys, "task", "cancel", failed["id"])
    assert code == 0 and out.endswith("CANCELED\n")


def test_without_credentials_the_cli_says_what_to_set(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path):
    for name in ("VSS_API_URL", "VSS_INSTANCE_ID", "VSS_API_KEY", "VSS_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    code, out, err = _cli(capsys, "task", "get", "x", "--api-url", "http://h:1")
    assert code == 2 and out == ""
    assert err.startswith("vss: missing --instance-id or VSS_INSTANCE_ID, --api-key or "
                          "VSS_API_KEY")
    assert len(err.splitlines()) == 1


def test_a_file_that_is_not_what_the_task_recorded_is_refused(dataset: Path, tmp_path: Path):
    # Storage serves intact bytes (its own hash agrees), but not the bytes the task's result
    # recorded for that path: not the task's output, so not taken.
    api = FakeEdgeApi()
    api.misrecord_next = "narration.json"
    out = tmp_path / "out"
    with pytest.raises(DownloadsFailed, match=r"recorded sha256 mismatch"):
        run_against(api, dataset, out, payload={"stop_at": "narration"})
    assert not (out / "narration.json").exists() and not list(out.glob("*.part"))


def test_every_file_is_checked_against_the_sha256_its_task_recorded(
    dataset: Path, tmp_path: Path,
):
    api = FakeEdgeApi(hashes=False)  # storage sends no hash: the recorded sha256 checks
    outcome = run_against(api, dataset, tmp_path / "out")
    assert {f.checked for f in outcome.state.files.values()} == {"recorded sha256"}
