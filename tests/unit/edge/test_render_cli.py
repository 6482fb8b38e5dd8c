"""`vss render` and `vss demo-media` refuse what they cannot do before running FFmpeg: each
problem on its own line of stderr, exit code 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.render import write_case, write_exports
from vss.cli import main


def _fails(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse usage errors
        code = exit_.code  # type: ignore[assignment]
    captured = capsys.readouterr()
    assert code == 2 and captured.out == "" and "Traceback" not in captured.err
    return captured.err.strip().splitlines()


def test_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    (line,) = _fails(capsys, "render", str(tmp_path / "s.json"), "--out", "o.mp4")
    # --media is optional for a linked timeline.otio only.
    assert line == ("vss render: the following arguments are required with an editing script: "
                    "--media (the folder of its episode files)")
    (line,) = _fails(capsys, "render", "s.json", "--media", "m", "--out", "o.mp4", "--size",
                     "720p")
    assert "expected WIDTHxHEIGHT" in line
    (line,) = _fails(capsys, "demo-media", "d.json", "--out", "m", "--fps", "0")
    assert "a frame rate between 1 and 120" in line


def test_missing_inputs_are_named(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    case = write_case(tmp_path / "case")
    out = str(tmp_path / "out" / "v.mp4")
    (line,) = _fails(capsys, "render", str(tmp_path / "none.json"), "--media", str(tmp_path),
                     "--out", out)
    assert line.startswith("vss render: cannot read ") and "none.json" in line
    (line,) = _fails(capsys, "render", str(case.script), "--media", str(tmp_path / "nope"),
                     "--out", out)
    assert line == f"vss render: {tmp_path / 'nope'} is not a folder"
    media = tmp_path / "media"
    media.mkdir()
    (media / "11_ep01_l1.mp4").write_bytes(b"")
    lines = _fails(capsys, "render", str(case.script), "--media", str(media), "--out", out)
    assert lines == [
        f"vss render: segment 1 clip 2 (scene 3, episode 2): no media file for episode 2 in "
        f"{media} (looked for 13_ep02_l1.mp4, 13_ep02_l1.mkv, 13_ep02_l1.mov, ...)",
        f"vss render: segment 2 clip 2 (scene 4, episode 2): no media file for episode 2 in "
        f"{media} (looked for 13_ep02_l1.mp4, 13_ep02_l1.mkv, 13_ep02_l1.mov, ...)"]
    (media / "13_ep02_l1.mp4").write_bytes(b"")
    (case.folder / "seg_0001.wav").unlink()
    (line,) = _fails(capsys, "render", str(case.script), "--media", str(media), "--out", out)
    assert line == (f"vss render: segment 2: its narration audio 'seg_0001.wav' is not in "
                    f"{case.folder}")
    assert not (tmp_path / "out").exists()


def test_a_bad_dataset_is_reported_with_pointers(capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path):
    dataset = tmp_path / "d.json"
    dataset.write_text('{"chapters": {}, "scenes": {"1": {"id": 1, "start_time": "later"}}, '
                       '"narrative_timeline": {}}')
    lines = _fails(capsys, "demo-media", str(dataset), "--out", str(tmp_path / "m"))
    assert lines and all(line.startswith("vss demo-media: ") and "(/" in line for line in lines)
    assert any("(/scenes/1/start_time)" in line for line in lines), lines
    assert not (tmp_path / "m").exists()


def test_demo_media_names_what_is_wrong_with_the_editing_script(
        capsys: pytest.CaptureFixture[str], tmp_path: Path):
    case = write_case(tmp_path / "case")
    media = tmp_path / "m"

    def fails(script: Path, *more: str) -> list[str]:
        return _fails(capsys, "demo-media", str(case.dataset), "--out", str(media),
                      "--editing-script", str(script), *more)

    (line,) = fails(tmp_path / "none.json")
    assert line == (f"vss demo-media: cannot read {tmp_path / 'none.json'}: No such file or "
                    "directory")
    broken = tmp_path / "broken.json"
    broken.write_text('{"editing_script": [')
    (line,) = fails(broken)
    assert line.startswith("vss demo-media: the editing script is not valid: Invalid JSON")
    broken.write_text('{"editing_script": [{"narration": "x"}], "fps": "fast"}')
    lines = fails(broken)
    assert "vss demo-media: the editing script is not valid: Field required " \
           "(/editing_script/0/narration_duration)" in lines
    assert any(line.endswith("(/fps)") for line in lines), lines
    other = json.loads(case.script.read_text())
    clips = [c for s in other["editing_script"] for c in s["b_roll_clips"] + s["key_lines"]]
    for clip in clips:
        clip.update(chapter_id=1, source_file=None)
    clips[0]["chapter_id"] = 9
    broken.write_text(json.dumps(other))
    (line,) = fails(broken)
    assert line == ("vss demo-media: the editing script uses episode 9, which the dataset "
                    "does not have")
    clips[0]["chapter_id"] = 1
    broken.write_text(json.dumps(other))
    (line,) = fails(broken, "--chapters", "2")
    assert line == f"vss demo-media: {broken} uses none of chapters [2] (it uses 1)"
    assert not media.exists()


def test_demo_media_handles_go_with_an_editing_script(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path):
    case = write_case(tmp_path / "case")
    (line,) = _fails(capsys, "demo-media", str(case.dataset), "--out", str(tmp_path / "m"),
                     "--handles", "2")
    assert line == "vss demo-media: --handles needs --editing-script (whole episodes have no " \
                   "handles)"
    (line,) = _fails(capsys, "demo-media", str(case.dataset), "--out", str(tmp_path / "m"),
                     "--editing-script", str(case.script), "--handles", "-1")
    assert "handles between 0 and 60 seconds, got -1" in line
    assert not (tmp_path / "m").exists()


def test_vss_render_takes_an_otio_timeline_and_names_what_it_lacks(
        capsys: pytest.CaptureFixture[str], tmp_path: Path):
    case = write_case(tmp_path / "case")
    otio_path = write_exports(case)
    out = str(tmp_path / "out" / "v.mp4")
    # Not linked, no media folder: each clip is named (FFmpeg is never reached).
    lines = _fails(capsys, "render", str(otio_path), "--out", out)
    assert lines[0] == ("vss render: segment 1 clip 1 (scene 1, episode 1): no media folder "
                        "to look for episode 1 in")
    assert len(lines) == 5
    media = tmp_path / "media"
    media.mkdir()
    (media / "11_ep01_l1.mp4").touch()
    lines = _fails(capsys, "render", str(otio_path), "--out", out, "--media", str(media))
    assert [line.split(": no media file")[0] for line in lines] == [
        "vss render: segment 1 clip 2 (scene 3, episode 2)",
        "vss render: segment 2 clip 2 (scene 4, episode 2)"]
    assert all(f"for episode 2 in {media} (looked for 13_ep02_l1.mp4," in line for line in lines)
    # An editing script still needs its media folder.
    (line,) = _fails(capsys, "render", str(case.script), "--out", out)
    assert "required with an editing script: --media" in line
    (tmp_path / "bad.otio").write_text("{}")
    (line,) = _fails(capsys, "render", str(tmp_path / "bad.otio"), "--out", out)
    assert line == "vss render: the file holds no OTIO timeline (no OTIO object)"
    assert not (tmp_path / "out").exists()
