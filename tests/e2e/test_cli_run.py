"""`vss run` and `vss task` as an operator runs them, against the whole local stack: the chained
task end to end with every artifact verified, a second run that redoes nothing, a run killed
mid-poll or mid-download and run again, and failures shown as one line with the server's code.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.paths import BLUEPRINT, ROOT
from tests.support.stack import new_tenant, wait_until
from vss.edge.client import EdgeClient
from vss.edge.state import STATE_FILE, load_state
from vss.errors import InvalidTransition, PayloadInvalid

pytestmark = pytest.mark.integration

VSS = Path(sys.executable).parent / "vss"
# Short narrations keep espeak-ng's dubbing to seconds; each test uses its own length so no two
# share a task by accident (the fingerprint covers the options).
RUN = ["--until", "editing", "--lang", "zh"]


@pytest.fixture(scope="module")
def tenant() -> tuple[EdgeClient, dict[str, str]]:
    edge, creds = new_tenant()
    env = {**os.environ, "VSS_INSTANCE_ID": creds["instance_id"],
           "VSS_API_KEY": creds["api_key"]}
    return edge, env


def _vss(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VSS), *args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env=env, check=False)


def _run_json(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = _vss(env, "run", *args, "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # --json: nothing but the JSON
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def _task_count(edge: EdgeClient) -> int:
    page = edge.session.get(f"{edge.base}/tasks/", params={"page_size": 100}, timeout=30).json()
    return len(page["results"])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_downloads_every_artifact_then_redoes_nothing(tenant, tmp_path: Path):
    edge, env = tenant
    out = tmp_path / "out"
    before = _task_count(edge)
    first = _run_json(env, str(BLUEPRINT), "--out", str(out), "--minutes", "0.5", *RUN)
    assert first["status"] == "COMPLETED" and first["created"] and first["uploaded"]
    assert set(first["results"]) == {"narration", "dubbing", "dubbing_assembly", "editing"}

    # Every file is the API's bytes, checked against the sha256 its task's result recorded.
    recorded = {a["path"]: a["sha256"] for result in first["results"].values()
                for a in result["artifacts"]}
    for relative, record in first["files"].items():
        assert _sha256(out / record["name"]) == hashlib.sha256(
            edge.download_path(relative)).hexdigest() == recorded[relative]
        assert record["checked"] == "recorded sha256"
    dubbing = json.loads((out / "dubbing_script.json").read_text())
    editing = json.loads((out / "editing_script.json").read_text())
    wavs = {Path(s["audio_file_path"]).name for s in dubbing["dubbing_script"]}
    assert wavs and all((out / name).read_bytes()[:4] == b"RIFF" for name in wavs)
    # The renderer finds each segment's audio by basename next to the editing script.
    assert {Path(s["narration_audio_path"]).name for s in editing["editing_script"]} <= wavs
    result = first["results"]["editing"]
    exports = result["exports"].values() if isinstance(result["exports"], dict) \
        else result["exports"]
    assert all((out / Path(p).name).is_file() for p in exports)
    assert {"narration", "download"} <= set(first["timings"])

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    second = _run_json(env, str(BLUEPRINT), "--out", str(out), "--minutes", "0.5", *RUN)
    assert second["task_id"] == first["task_id"]
    assert not second["created"] and not second["uploaded"] and not second["resumed"]
    assert second["downloaded"] == [] and len(second["skipped"]) == len(first["files"])
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != STATE_FILE} == {
        n: t for n, t in mtimes.items() if n != STATE_FILE}
    assert _task_count(edge) == before + 1


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(VSS), "run", *args, "--json"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL  # it was still working: a real interruption


def test_a_run_killed_while_polling_continues_the_same_task(tenant, tmp_path: Path):
    edge, env = tenant
    out = tmp_path / "out"
    before = _task_count(edge)
    process = _start(env, str(BLUEPRINT), "--out", str(out), "--minutes", "0.6", *RUN)
    state = wait_until(lambda: (s := load_state(out)) is not None and s.task_id and s, 60, 0.02)
    _kill(process)
    assert state.status in ("PENDING", "RUNNING") and state.files == {}

    again = _run_json(env, str(BLUEPRINT), "--out", str(out), "--minutes", "0.6", *RUN)
    assert again["task_id"] == state.task_id and again["status"] == "COMPLETED"
    assert not again["created"] and not again["uploaded"]
    assert _task_count(edge) == before + 1


def test_a_run_killed_mid_download_fetches_only_what_is_missing(tenant, tmp_path: Path):
    _, env = tenant
    out = tmp_path / "out"
    args = [str(BLUEPRINT), "--out", str(out), "--minutes", "0.7", *RUN]
    # One file at a time, 1 MB/s: the narration track (megabytes) is still coming when the
    # first small files are recorded.
    process = _start(env, *args, "--parallel", "1", "--limit-rate", "1M")
    state = wait_until(lambda: (s := load_state(out)) is not None and len(s.files) >= 3 and s,
                       240, 0.02)
    _kill(process)
    recorded = {record.name for record in state.files.values()}
    partial = list(out.glob("*.part"))

    again = _run_json(env, *args)
    assert not again["created"] and again["status"] == "COMPLETED"
    assert recorded <= set(again["skipped"])
    assert not recorded & set(again["downloaded"])
    assert len(again["downloaded"]) + len(again["skipped"]) == len(again["files"])
    assert not list(out.glob("*.part"))
    for record in again["files"].values():
        assert _sha256(out / record["name"]) == record["sha256"]
    assert partial == [] or all(p.name.removesuffix(".part") in again["downloaded"]
                                for p in partial)


def test_an_invalid_dataset_is_one_line_with_the_server_code(tenant, tmp_path: Path):
    _, env = tenant
    dataset = json.loads(BLUEPRINT.read_text())
    scene = next(iter(dataset["scenes"]))
    dataset["scenes"][scene]["start_time"] = "not a time"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dataset, ensure_ascii=False))
    done = _vss(env, "run", str(bad), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and done.stdout == ""
    last = done.stderr.splitlines()[-1]
    assert last.startswith("vss: task ") and f"error {PayloadInvalid.code}: " in last
    assert f"/scenes/{scene}/start_time: 'not a time' is not a timecode" in last
    assert "Traceback" not in done.stderr


def test_a_failed_stage_is_resumed_without_redoing_the_finished_ones(tenant, tmp_path: Path):
    """Clip bounds that contradict each other fail the editing stage; the next run resumes the
    task there: narration and dubbing are neither redone nor downloaded again."""
    edge, env = tenant
    out = tmp_path / "out"
    args = [str(BLUEPRINT), "--out", str(out), "--minutes", "0.5", *RUN,
            "--param", "editing.min_clip_seconds=5", "--param", "editing.max_clip_seconds=2"]
    done = _vss(env, "run", *args)
    assert done.returncode == 2
    assert " FAILED at editing: " in done.stderr.splitlines()[-1]
    state = load_state(out)
    assert state is not None and state.status == "FAILED"
    assert (out / "dubbing_script.json").is_file()  # the finished stages' artifacts are here
    task = edge.get_task(state.task_id)
    finished = {s: task["results"][s]["output_file_path"] for s in ("narration", "dubbing")}

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != STATE_FILE}
    resumed = _vss(env, "run", *args)
    assert resumed.returncode == 2
    lines = resumed.stderr.splitlines()
    assert any(f"task {state.task_id} failed at editing" in line and "resuming it" in line
               for line in lines)
    assert " FAILED at editing: " in lines[-1]
    again = edge.get_task(state.task_id)
    assert {s: again["results"][s]["output_file_path"] for s in finished} == finished
    # Nothing fetched twice.
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != STATE_FILE} == mtimes

    scripted = _vss(env, "run", *args, "--json", "--no-resume")
    assert scripted.returncode == 2
    body = json.loads(scripted.stdout)
    assert body["error"]["code"] == PayloadInvalid.code and body["task"]["id"] == state.task_id


def test_task_commands_against_the_stack(tenant, tmp_path: Path):
    _, env = tenant
    upload = _vss(env, "upload", str(BLUEPRINT))
    assert upload.returncode == 0, upload.stderr
    relative = upload.stdout.strip()
    assert relative.startswith("uploads/") and relative.endswith(".json")
    payload = json.dumps({"blueprint_path": relative, "stop_at": "narration"})
    created = _vss(env, "task", "create", "GENERATE_COMMENTARY", "--payload", payload,
                   "--wait", "--json")
    assert created.returncode == 0, created.stderr
    view = json.loads(created.stdout)
    assert view["status"] == "COMPLETED" and view["stages"] == ["narration"]
    shown = _vss(env, "task", "get", view["id"])
    assert shown.stdout == f"{view['id']}  GENERATE_COMMENTARY  COMPLETED\n"
    refused = _vss(env, "task", "resume", view["id"])
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith(f"vss: error {InvalidTransition.code}: ")
    assert refused.stderr.rstrip().endswith("(HTTP 409)") and len(refused.stderr.splitlines()) == 1
    unknown = _vss(env, "task", "get", "t_nope", "--api-url", "http://127.0.0.1:9")
    assert unknown.returncode == 2 and unknown.stderr.startswith("vss: cannot reach ")
