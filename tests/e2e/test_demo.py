"""`make demo`'s script on the test stack (espeak-ng voices, a half-minute narration): it ends
in a checked video and a summary, and a second run redoes nothing; the OTIO timeline it
exported renders to that video (`vss render timeline.otio`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.support.exports import EXPORTS, references
from tests.support.paths import ROOT
from tests.support.render import cut_frames, render_report, run_vss
from tests.support.stack import stack_env
from vss.edge.render.ffmpeg import ebur128

pytestmark = pytest.mark.integration


def _demo(out: Path) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--out", str(out),
                           "--minutes", "0.5"], cwd=ROOT, env=os.environ.copy(),
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def test_demo_ends_in_a_checked_video_and_a_second_run_redoes_nothing(tmp_path: Path):
    stack_env()
    out = tmp_path / "demo"
    first = _demo(out)
    report = json.loads((out / "preview.render.json").read_text())
    assert all(report[k]["ok"] for k in ("duration_check", "cuts", "loudness"))
    assert (out / "preview.mp4").stat().st_size > 0 and (out / "index.html").is_file()
    editing = json.loads((out / "editing_script.json").read_text())
    # The video is the timeline (key lines included), not the narration (`total_duration`).
    assert report["duration_check"]["timeline_frames"] == editing["total_frames"]
    assert report["duration_check"]["timeline_seconds"] == pytest.approx(
        editing["timeline_duration"], abs=1 / editing["fps"] + 1e-6)
    for figure in ("narration segments", "fit to slots", "segment loudness",
                   "cuts on their frame", "video loudness", "preview.mp4"):
        assert figure in first
    console = stack_env()["VSS_CONSOLE_URL"]
    assert f"review page         {(out / 'index.html').as_uri()}" in first
    assert f"operations console  {console}" in first
    # The NLE exports beside the preview link every clip to a file here.
    for name in EXPORTS:
        urls = references(out / name)
        assert urls and all(url.startswith("file:///") for url in urls), name
        assert all(Path(unquote(urlparse(url).path)).is_file() for url in urls), name
    made = {p.name: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    second = _demo(out)
    assert "task reused" in second and "0 downloaded" in second
    assert "(0 to make," in second and "already rendered and checked" in second
    assert {p.name: p.stat().st_mtime_ns for p in out.rglob("*")
            if p.is_file() and p.name != ".vss-run.json"} == {
        n: t for n, t in made.items() if n != ".vss-run.json"}

    # The exported timeline, linked beside the preview, renders to the preview: the same
    # frames, every cut on the same frame, the loudness within 0.5 LU (issue 22).
    video = tmp_path / "otio" / "video.mp4"
    run = run_vss("render", out / "timeline.otio", "--out", video, "--no-review")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    rendered = render_report(video)
    assert rendered["duration_check"]["video_frames"] == \
        report["duration_check"]["video_frames"] == editing["total_frames"]
    assert cut_frames(rendered) == cut_frames(report)
    assert rendered["clips"] and [{k: v for k, v in c.items() if k != "file"}
                                  for c in rendered["clips"]] == \
        [{k: v for k, v in c.items() if k != "file"} for c in report["clips"]]
    assert abs(ebur128(video)[0] - ebur128(out / "preview.mp4")[0]) <= 0.5
    # Nothing of the demo's was touched.
    assert {p.name: p.stat().st_mtime_ns for p in out.rglob("*")
            if p.is_file() and p.name != ".vss-run.json"} == {
        n: t for n, t in made.items() if n != ".vss-run.json"}
