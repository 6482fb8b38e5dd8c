"""GENERATE_EDITING_SCRIPT through the stage runner with fake ports: the real blueprint, the
real edge's payload and its copy of the dubbing script, the artifacts and their downloads,
and bad inputs rejected with pointers."""

from __future__ import annotations

import json
import math
from pathlib import PureWindowsPath
from typing import Any

import pytest

from tests.support.editing import edge_copy
from tests.support.fakes import fake_deps
from tests.support.tasks import valid_dataset
from vss.api.app import create_app
from vss.deps import Deps
from vss.domain.artifacts import EditingScript
from vss.domain.dataset import parse_dataset
from vss.domain.editing_report import EditingReport
from vss.domain.messages import StageMessage
from vss.domain.tasks import Stage, TaskStatus
from vss.domain.timecode import Timecode
from vss.errors import PayloadInvalid
from vss.service import auth, stages, tasks
from vss.service.storage import TaskFiles
from vss.service.uploads import check_landed_object, store_upload


def _upload(deps: Deps, tenant: str, name: str, document: dict[str, Any]) -> str:
    """Upload and run the upload check, as on_upload would."""
    data = json.dumps(document, ensure_ascii=False).encode()
    record = store_upload(deps, tenant, name, data)
    check_landed_object(deps, deps.settings.uploads_bucket,
                        f"tenants/{tenant}/{record.relative_path}", record.generation)
    return record.relative_path


def _run(deps: Deps, tenant: str, payload: dict[str, Any]) -> tuple[str, Any]:
    task = tasks.create_task(deps, tenant, tasks.CreateTask(
        task_type="GENERATE_EDITING_SCRIPT", payload=payload))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.EDITING))
    done = deps.tasks.get(task.id)
    assert done is not None
    return task.id, done


@pytest.fixture(scope="module")
def edge_run(blueprint_bytes: bytes) -> dict[str, Any]:
    deps = fake_deps()
    creds = auth.create_tenant(deps, "edge")
    tenant = creds.tenant_id
    blueprint = valid_dataset(deps, blueprint_bytes, tenant)
    dubbing = _upload(deps, tenant, "dubbing_script.json", edge_copy())
    task_id, done = _run(deps, tenant, {"dubbing_script_path": dubbing,
                                        "blueprint_path": blueprint,
                                        "service_params": {"lang": "zh"}})
    assert done.status == TaskStatus.COMPLETED, done.error
    files = TaskFiles(deps, tenant, task_id)
    result = done.main_result.as_seed_result()
    return {"deps": deps, "creds": creds, "task_id": task_id, "result": result,
            "files": files,
            "script": EditingScript.model_validate_json(files.read(result["output_file_path"])),
            "report": EditingReport.model_validate_json(files.read(result["report_file_path"]))}


def test_the_edge_payload_and_its_dubbing_copy_give_a_script_the_edge_can_render(
        edge_run, blueprint_bytes):
    dataset = parse_dataset(blueprint_bytes)
    script: EditingScript = edge_run["script"]
    upstream = edge_copy()["dubbing_script"]
    assert len(script.editing_script) == len(upstream)
    for entry, dubbed in zip(script.editing_script, upstream, strict=True):
        # The edge lays the WAVs under the clips by order and matches them by basename.
        assert PureWindowsPath(entry.narration_audio_path).name == \
            PureWindowsPath(dubbed["audio_file_path"]).name
        clip_seconds = math.fsum(clip.duration for clip in entry.b_roll_clips)
        assert abs(clip_seconds - dubbed["duration_seconds"]) <= 1 / script.fps + 1e-9
        for clip in entry.b_roll_clips:
            # `ffmpeg -ss <start_time> -t <duration>` inside the scene, in its episode.
            assert isinstance(clip.start_time, str)
            start = Timecode.parse(clip.start_time)
            scene = dataset.scenes[clip.scene_id]
            assert clip.chapter_id == scene.chapter_id
            assert start >= scene.start
            assert start.ms + clip.duration * 1000 <= scene.end.ms + 1e-6
            assert clip.source_file == dataset.chapter_of(clip.scene_id).source_file


def test_clips_cut_every_few_seconds_to_the_cited_scenes(edge_run):
    script: EditingScript = edge_run["script"]
    report: EditingReport = edge_run["report"]
    assert report.ok and report.out_of_bounds_clips == 0 and report.reused_frames == 0
    assert report.max_coverage_error_frames <= 1
    for entry in script.editing_script:
        cited = set(entry.source_scene_ids)
        seconds = [clip.duration for clip in entry.b_roll_clips]
        assert all(1.5 - 1e-9 <= s <= 5.0 + 1e-9 for s in seconds), seconds
        from_cited = sum(c.duration for c in entry.b_roll_clips if c.scene_id in cited)
        assert from_cited >= 0.9 * sum(seconds)
        positions = [(clip.chapter_id, clip.source_in_frame) for clip in entry.b_roll_clips]
        assert positions == sorted(positions)
        assert all(clip.reason and clip.audio_mode for clip in entry.b_roll_clips)
    # The seed's 20 s whole-scene clips are gone: a median of a few seconds.
    assert report.clip_lengths.median_seconds <= 3.5
    assert report.cut_points["mid_word"] == 0


def test_the_second_segment_gets_its_lines_not_the_first_frames_of_its_scenes(
        edge_run, blueprint_bytes):
    """146 characters over scenes 5-9, 14.72 s of audio: the clips come from the lines that
    share words with it, ranked first, not from the first seconds of scene 5."""
    script: EditingScript = edge_run["script"]
    second = script.editing_script[1]
    assert {c.scene_id for c in second.b_roll_clips} <= {5, 6, 7, 8, 9}
    assert any(c.kind in ("dialogue", "dialogue_group") and c.relevance and c.relevance > 0.5
               for c in second.b_roll_clips)
    assert all("rank" in (c.reason or "") for c in second.b_roll_clips)


def test_timeline_offsets_follow_the_clips_and_the_narration(edge_run):
    script: EditingScript = edge_run["script"]
    cursor = 0
    for entry in script.editing_script:
        assert entry.timeline_start_frame == cursor
        for clip in [*entry.b_roll_clips, *entry.key_lines]:
            assert clip.timeline_start_frame == cursor
            assert clip.timeline_start == pytest.approx(cursor / script.fps)
            cursor += clip.frames
    assert script.total_frames == cursor


def test_every_artifact_is_listed_in_the_result_and_downloadable(edge_run):
    result = edge_run["result"]
    assert set(result["exports"]) == {"otio", "fcpxml", "fcp7_xml", "edl"}
    deps, creds = edge_run["deps"], edge_run["creds"]
    client = create_app(deps).test_client()
    headers = {"X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key}
    paths = [result["output_file_path"], result["report_file_path"],
             *result["exports"].values()]
    for path in paths:
        assert path.startswith(f"tasks/{edge_run['task_id']}/")
        response = client.get("/api/v1/files/download/", query_string={"path": path},
                              headers=headers)
        assert response.status_code == 302, (path, response.get_json())
        assert path in response.headers["Location"]
        assert edge_run["files"].read(path)


def _bad_run(blueprint_bytes: bytes, dubbing: dict[str, Any],
             service_params: dict[str, Any] | None = None) -> dict[str, Any]:
    deps = fake_deps()
    blueprint = valid_dataset(deps, blueprint_bytes)
    path = _upload(deps, "t1", "dubbing.json", dubbing)
    _, done = _run(deps, "t1", {"input_dubbing_path": path, "blueprint_path": blueprint,
                                "service_params": service_params or {}})
    assert done.status == TaskStatus.FAILED
    assert done.error is not None and done.error.code == PayloadInvalid.code
    return done.error.details


def test_missing_scenes_are_named_with_pointers(blueprint_bytes):
    dubbing = edge_copy()
    dubbing["dubbing_script"][2]["source_scene_ids"] = [10, 99, 11, 640]
    details = _bad_run(blueprint_bytes, dubbing)
    assert [e["pointer"] for e in details["errors"]] == [
        "/dubbing_script/2/source_scene_ids/1", "/dubbing_script/2/source_scene_ids/3"]
    assert "scene 99 is not in the dataset" in details["errors"][0]["reason"]


def test_negative_and_absurd_durations_are_refused(blueprint_bytes):
    dubbing = edge_copy()
    dubbing["dubbing_script"][0]["duration_seconds"] = -3
    details = _bad_run(blueprint_bytes, dubbing)
    assert details["errors"][0]["pointer"] == "/dubbing_script/0/duration_seconds"
    dubbing = edge_copy()
    dubbing["dubbing_script"][4]["duration_seconds"] = 86_400
    details = _bad_run(blueprint_bytes, dubbing)
    assert details["errors"] == [{"pointer": "/dubbing_script/4/duration_seconds",
                                  "reason": "86400.0 s is longer than the longest segment "
                                            "accepted (600 s)"}]


def test_a_dubbing_script_made_from_another_dataset_is_refused(blueprint_bytes):
    foreign = {"dubbing_script": [
        {"narration": "The detective follows the courier through the night market.",
         "source_scene_ids": [1, 2], "duration_seconds": 6.0,
         "audio_file_path": "tasks/x/dubbing/narration_000.wav"},
        {"narration": "At dawn the harbour is empty, and the ship has already sailed.",
         "source_scene_ids": [3], "duration_seconds": 5.0,
         "audio_file_path": "tasks/x/dubbing/narration_001.wav"}], "total_duration": 11.0}
    details = _bad_run(blueprint_bytes, foreign)
    assert details["errors"][0]["pointer"] == "/dubbing_script"
    assert "another dataset" in details["errors"][0]["reason"]


def test_a_dubbing_script_that_is_not_one_is_refused_with_pointers(blueprint_bytes):
    details = _bad_run(blueprint_bytes, {"dubbing_script": [{"narration": "x"}],
                                         "total_duration": 1})
    pointers = {e["pointer"] for e in details["errors"]}
    assert {"/dubbing_script/0/source_scene_ids", "/dubbing_script/0/duration_seconds",
            "/dubbing_script/0/audio_file_path"} <= pointers


def test_impossible_clip_bounds_fail_the_task_with_their_cause(blueprint_bytes):
    details = _bad_run(blueprint_bytes, edge_copy(),
                       {"min_clip_seconds": 4, "max_clip_seconds": 2})
    assert details["errors"] == [{"pointer": "/payload/service_params/max_clip_seconds",
                                  "reason": "2 s is below min_clip_seconds (4 s)"}]
