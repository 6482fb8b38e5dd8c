"""The decisions `make demo` takes to skip work on a second run (scripts/demo.py): which
episodes the cut needs, which are already there, whether the video is current."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.paths import ROOT


@pytest.fixture(scope="module")
def demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_script", ROOT / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_episodes_the_cut_uses_key_lines_included(demo: ModuleType):
    editing = {"editing_script": [
        {"b_roll_clips": [{"chapter_id": 1}, {"chapter_id": 3}]},
        {"b_roll_clips": [{"chapter_id": 3}], "key_lines": [{"chapter_id": 7}]}]}
    assert demo.chapters_used(editing) == {1, 3, 7}


def test_episodes_already_there_are_not_made_again(demo: ModuleType, tmp_path: Path):
    # Chapter 1's source_file is 29_ep01_l1.ass: its media is 29_ep01_l1.<any video ext>.
    (tmp_path / "29_ep01_l1.mkv").write_bytes(b"")
    assert demo.missing_media({1, 2}, tmp_path) == {2}
    assert demo.missing_media({1}, tmp_path) == set()


def test_an_episode_written_for_an_earlier_cut_is_made_again(demo: ModuleType, tmp_path: Path):
    # The episodes hold only the ranges of the cut they were written for.
    cut = tmp_path / "editing_script.json"
    cut.write_text("{}")
    (tmp_path / "29_ep01_l1.mp4").write_bytes(b"")
    (tmp_path / "31_ep02_l1.mp4").write_bytes(b"")
    earlier = cut.stat().st_mtime - 10
    os.utime(tmp_path / "29_ep01_l1.mp4", (earlier, earlier))
    assert demo.missing_media({1, 2}, tmp_path, cut) == {1}
    assert demo.missing_media({1, 2}, tmp_path) == set()


def _rendered(at, ok: bool = True) -> None:
    at.media.mkdir(parents=True)
    for name in ("editing_script.json", "dubbing_script.json"):
        (at.out / name).write_text("{}")
    (at.media / "ep01.mp4").write_bytes(b"")
    at.video.write_bytes(b"")
    checks = {k: {"ok": ok} for k in ("duration_check", "cuts", "loudness")}
    at.report.write_text(json.dumps(checks))
    later = at.report.stat().st_mtime + 10
    os.utime(at.report, (later, later))


def test_a_checked_video_newer_than_its_inputs_is_current(demo: ModuleType, tmp_path: Path):
    at = demo.Layout(tmp_path)
    assert not demo.render_is_current(at)  # nothing rendered
    _rendered(at)
    assert demo.render_is_current(at)
    newer = at.report.stat().st_mtime + 5
    os.utime(at.out / "editing_script.json", (newer, newer))  # a new cut
    assert not demo.render_is_current(at)


def test_a_video_that_failed_a_check_is_rendered_again(demo: ModuleType, tmp_path: Path):
    at = demo.Layout(tmp_path)
    _rendered(at, ok=False)
    assert not demo.render_is_current(at)
