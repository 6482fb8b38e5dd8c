"""`vss render timeline.otio` for real (FFmpeg, no stack): the editing stage's OTIO export of
the small render case (every audio mode, a freeze-frame, a key line) renders to the video its
editing script renders to. The same frame count, every cut on the same frame, the same picture
frame for frame, the loudness within 0.5 LU (the renderer's own ebur128 measurement): from the
export as `vss render` links it beside the preview (no --media), and as the cloud wrote it
(relative names, found in --media and --audio)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.support.render import (
    cut_frames,
    demo_media,
    render_report,
    run_vss,
    write_case,
    write_exports,
)
from vss.edge.render.ffmpeg import ebur128
from vss.edge.render.sources import local_path

LOUDNESS_LU = 0.5


def _picture(video: Path) -> list[str]:
    """Each decoded frame's MD5, in order."""
    run = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-map", "0:v:0",
                          "-f", "framemd5", "-"], capture_output=True, text=True, check=True)
    return [line.rsplit(",", 1)[-1].strip() for line in run.stdout.splitlines()
            if line and not line.startswith("#")]


@pytest.mark.parametrize(("fps", "rate"), [(25.0, "25"), (29.97, "30000/1001")])
def test_the_exported_timeline_renders_the_preview(tmp_path: Path, fps: float, rate: str):
    case = write_case(tmp_path / "case", fps=fps)
    media = demo_media(case, rate)
    otio_path = write_exports(case)
    unlinked = tmp_path / "cloud" / "timeline.otio"  # as the cloud wrote it
    unlinked.parent.mkdir()
    shutil.copy(otio_path, unlinked)
    preview = case.folder / "preview.mp4"
    run = run_vss("render", case.script, "--media", media, "--out", preview, "--dataset",
                  case.dataset, "--no-review")
    assert run.returncode == 0, run.stderr
    # The render linked the exports beside the preview: every clip to a file here.
    linked = json.loads(otio_path.read_text(encoding="utf-8"))
    assert "file://" in json.dumps(linked) and "seg_0000.wav" in json.dumps(linked)

    renders = {"linked": tmp_path / "linked" / "video.mp4",
               "unlinked": tmp_path / "unlinked" / "video.mp4"}
    run = run_vss("render", otio_path, "--out", renders["linked"], "--no-review")
    assert run.returncode == 0, run.stderr
    run = run_vss("render", unlinked, "--media", media, "--audio", case.folder, "--out",
                  renders["unlinked"], "--no-review")
    assert run.returncode == 0, run.stderr
    assert not (renders["unlinked"].parent / "timeline.fcpxml").exists()  # nothing linked

    want = render_report(preview)
    assert want["duration_check"]["video_frames"] == case.total_frames
    assert len(want["cut_checks"]) == 9 and {c["status"] for c in want["cut_checks"]} == \
        {"on_frame"}
    preview_lufs = ebur128(preview)[0]
    preview_picture = _picture(preview)
    assert len(preview_picture) == case.total_frames
    for how, video in renders.items():
        got = render_report(video)
        assert got["duration_check"]["video_frames"] == want["duration_check"]["video_frames"]
        assert got["duration_check"]["ok"] and got["cuts"]["ok"] and got["loudness"]["ok"], how
        assert cut_frames(got) == cut_frames(want), how
        assert [{k: v for k, v in clip.items() if k != "file"} for clip in got["clips"]] == \
            [{k: v for k, v in clip.items() if k != "file"} for clip in want["clips"]], how
        assert got["cues"] == want["cues"], how
        assert abs(ebur128(video)[0] - preview_lufs) <= LOUDNESS_LU, how
        assert _picture(video) == preview_picture, how
    # The linked render read the very files the preview did.
    assert {local_path(url) for url in _urls(otio_path)} == \
        {(media / name).resolve() for name in ("11_ep01_l1.mp4", "13_ep02_l1.mp4")} | \
        {(case.folder / f"seg_{n:04d}.wav").resolve() for n in range(2)}


def _urls(otio_path: Path) -> set[str]:
    timeline = otio.adapters.read_from_file(str(otio_path), "otio_json")
    return {str(c.media_reference.target_url) for t in timeline.tracks for c in t.find_clips()}
