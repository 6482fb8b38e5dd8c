"""The seed's edge workflow over HTTP against the whole local stack (README §6 of the seed)."""

from __future__ import annotations

import io
import itertools
import json
import wave
from pathlib import Path

import pytest
import requests

from tests.support.paths import BLUEPRINT, DATA
from vss.domain.artifacts import DubbingScript, EditingScript, NarrationScript
from vss.edge.client import EdgeClient

pytestmark = pytest.mark.integration



def _completed(edge: EdgeClient, task: dict, timeout: float = 240) -> dict:
    assert task["status"] == "PENDING"
    done = edge.wait(task["id"], timeout=timeout)
    assert done["status"] == "COMPLETED", done["error"]
    assert done["download_url"].endswith(f"/files/tasks/{task['id']}/download/")
    _revalidates(edge, task["id"])
    return done


def _revalidates(edge: EdgeClient, task_id: str, tries: int = 3) -> None:
    """A poll that names the task's current ETag, while nothing changed, is a 304 with no body
    and the same tag (through the function and functions-framework, as the edge sees it)."""
    url = f"{edge.base}/tasks/{task_id}/"
    for _ in range(tries):
        first = edge.session.get(url, timeout=30)
        assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
        etag = first.headers["ETag"]
        again = edge.session.get(url, headers={"If-None-Match": etag}, timeout=30)
        if again.status_code == 304:
            assert again.content == b"" and again.headers["ETag"] == etag
            return
        # Something was written between the two polls: a new body under a new tag.
        assert again.status_code == 200 and again.headers["ETag"] != etag, again.text
    raise AssertionError(f"task {task_id} changed under each of {tries} pairs of polls")


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getnframes() / wav.getframerate()


def test_seven_step_edge_workflow(edge: EdgeClient, tmp_path: Path):
    # 0. The dataset the workbench annotated, and a narration over it.
    dataset = edge.upload(BLUEPRINT)
    assert len(dataset["sha256"]) == 64 and dataset["relative_path"].startswith("uploads/")
    narration = _completed(edge, edge.create_task(
        "GENERATE_NARRATION", {"blueprint_path": dataset["relative_path"],
                               "service_params": {"lang": "zh"}}))
    script = NarrationScript.model_validate_json(edge.download_result(narration["id"]))
    assert script.narration_script and all(s.pacing for s in script.narration_script)

    # 1–2. Upload the narration input, create the dubbing task (as the seed's edge does).
    upload = tmp_path / "narration.json"
    upload.write_text(script.model_dump_json())
    narration_file = edge.upload(upload)
    dubbing_task = _completed(edge, edge.create_task(
        "GENERATE_DUBBING", {"input_narration_path": narration_file["relative_path"],
                             "service_params": {"template_name": "chinese_paieas_replication",
                                                "speed": 1.0}}))
    # 3. The dubbing script.
    dubbing = DubbingScript.model_validate_json(edge.download_result(dubbing_task["id"]))
    assert len(dubbing.dubbing_script) == len(script.narration_script)
    # 4. Every WAV through the generic download, with the duration the script states.
    for segment in dubbing.dubbing_script:
        audio = edge.download_path(segment.audio_file_path)
        assert audio[:4] == b"RIFF"
        assert _wav_seconds(audio) == pytest.approx(segment.duration_seconds, abs=0.001)
    # 5–6. Editing script (the edge names the input `dubbing_script_path`).
    editing_task = _completed(edge, edge.create_task(
        "GENERATE_EDITING_SCRIPT", {"dubbing_script_path": dubbing_task["result"]
                                    ["output_file_path"],
                                    "blueprint_path": dataset["relative_path"]}))
    editing = EditingScript.model_validate_json(edge.download_result(editing_task["id"]))
    frame = 1 / editing.fps
    for segment in editing.editing_script:
        covered = sum(c.duration for c in segment.b_roll_clips)
        assert covered == pytest.approx(segment.narration_duration, abs=frame)
    # No source range twice (a scene gives several short clips now).
    shown = sorted((c.chapter_id, c.source_in_frame, c.source_in_frame + c.frames)
                   for s in editing.editing_script for c in s.b_roll_clips)
    assert all(a[0] != b[0] or a[2] <= b[1] for a, b in itertools.pairwise(shown))
    # The report and every export download through the generic path.
    result = editing_task["result"]
    for path in [result["report_file_path"], *result["exports"].values()]:
        assert edge.download_path(path)


def test_seed_narration_example_is_dubbed(edge: EdgeClient):
    """The seed's own narration script (a real upstream file) goes through dubbing."""
    upload = edge.upload(DATA / "upstream_narration_script_example.json")
    task = _completed(edge, edge.create_task(
        "GENERATE_DUBBING", {"input_narration_path": upload["relative_path"]}))
    dubbing = json.loads(edge.download_result(task["id"]))
    assert dubbing["dubbing_script"][0]["source_scene_ids"] == [10, 11]
    assert dubbing["dubbing_script"][0]["duration_seconds"] > 10


def test_signed_url_upload_then_task(edge: EdgeClient):
    data = BLUEPRINT.read_bytes()
    response = edge.session.post(f"{edge.base}/files/upload", json={
        "filename": "blueprint.json", "content_type": "application/json", "size": len(data)})
    assert response.status_code == 201, response.text
    signed = response.json()
    assert signed["method"] == "PUT" and "X-Goog-Signature" in signed["upload_url"]
    # The task may be created before the bytes arrive: it waits for them.
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": signed["relative_path"]})
    assert task["waiting_on"]
    put = requests.put(signed["upload_url"], data=data, headers=signed["headers"], timeout=30)
    assert put.status_code in (200, 201), put.text
    _completed(edge, task)


def test_task_list_is_paginated_newest_first(edge: EdgeClient):
    dataset = edge.upload(BLUEPRINT)
    ids = [edge.create_task("GENERATE_NARRATION", {"blueprint_path": dataset["relative_path"]})
           ["id"] for _ in range(3)]
    first = edge.session.get(f"{edge.base}/tasks/", params={"page_size": 2}).json()
    second = edge.session.get(f"{edge.base}/tasks", params={
        "page_size": 2, "page_token": first["next_page_token"]}).json()
    listed = [t["id"] for t in first["results"] + second["results"]]
    assert listed[:3] == ids[::-1]
