"""The smoke test's own checks, on hand-made answers (the whole run is in tests/e2e)."""

from __future__ import annotations

import hashlib

import pytest

from vss.edge.smoke import SmokeFailed, _check_cut, _verify


def _task(path: str, data: bytes) -> dict:
    return {"id": "t1", "results": {"narration": {"artifacts": [
        {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}]}}}


def test_a_download_must_be_the_file_its_task_recorded():
    task = _task("tasks/t1/a/n.json", b"{}")
    _verify(task, "tasks/t1/a/n.json", b"{}")
    with pytest.raises(SmokeFailed, match="the task recorded 2 bytes"):
        _verify(task, "tasks/t1/a/n.json", b"{ }")
    with pytest.raises(SmokeFailed, match="not among the files"):
        _verify(task, "tasks/t1/b/n.json", b"{}")


def test_the_cut_must_lay_clips_that_add_up_to_each_narration():
    script = {"dubbing_script": [{"audio_file_path": "tasks/t/a/narration_000.wav",
                                  "duration_seconds": 2.0}]}
    entry = {"narration_audio_path": "narration_000.wav",
             "b_roll_clips": [{"duration": 1.2}, {"duration": 0.8}]}
    wavs = {"narration_000.wav": b"RIFF"}
    _check_cut({"editing_script": [entry]}, script, wavs)
    short = {**entry, "b_roll_clips": [{"duration": 1.2}]}
    with pytest.raises(SmokeFailed, match=r"clips last 1\.200 s"):
        _check_cut({"editing_script": [short]}, script, wavs)
    with pytest.raises(SmokeFailed, match="is not a dubbing WAV"):
        _check_cut({"editing_script": [{**entry, "narration_audio_path": "x.wav"}]}, script,
                   wavs)
