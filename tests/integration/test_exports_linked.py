"""The timeline exports an editor opens after a render (FFmpeg only, no stack): the cloud's
four exports of the small render case, downloaded beside its editing script as `vss run` does,
are rewritten by `vss render` beside the preview so that every media reference is an absolute
file URL to an existing file of its kind: a video for each picture clip, the segment's WAV for
each narration clip. A missing episode is listed by `vss export`, not left silently offline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

from tests.support.exports import EXPORTS, references
from tests.support.render import Case, demo_media, run_vss, write_case
from vss.domain.artifacts import EditingScript
from vss.domain.dataset import parse_dataset
from vss.editing.exports import export_files


def _download_exports(case: Case) -> None:
    """The editing stage's exports of the case, under the names `vss run` gives them."""
    script = EditingScript.model_validate_json(case.script.read_bytes())
    dataset = parse_dataset(case.dataset.read_bytes())
    for export in export_files(script, dataset, "render case"):
        (case.folder / export.name.rsplit("/", 1)[-1]).write_bytes(export.data)


def _streams(path: Path) -> set[str]:
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type",
                            "-of", "json", str(path)], capture_output=True, text=True,
                           check=True)
    return {s["codec_type"] for s in json.loads(probe.stdout)["streams"]}


def _local(url: str) -> Path:
    parsed = urlparse(url)
    assert parsed.scheme == "file", url
    return Path(unquote(parsed.path))


def test_after_a_render_every_export_links_to_a_file_of_its_kind(tmp_path: Path):
    case = write_case(tmp_path / "demo")
    media = demo_media(case)
    _download_exports(case)
    run = run_vss("render", case.script, "--media", media, "--out",
                  case.folder / "preview.mp4", "--dataset", case.dataset, "--no-review")
    assert run.returncode == 0, run.stderr
    assert "offline" not in run.stderr
    wavs = {f"seg_{i:04d}.wav" for i in range(2)}
    episodes = {"11_ep01_l1.mp4", "13_ep02_l1.mp4"}
    for name in EXPORTS:
        found = references(case.folder / name)
        assert found, name
        files = {_local(url) for url in found}
        assert all(path.is_file() and path.is_absolute() for path in files), name
        assert {p.name for p in files} == (episodes if name == "timeline.edl"
                                           else episodes | wavs), name
        for path in files:
            if path.suffix == ".wav":
                assert path.parent == case.folder and _streams(path) == {"audio"}
            else:
                assert path.parent == media and "video" in _streams(path), name


def test_a_missing_episode_is_listed_not_left_silently_offline(tmp_path: Path):
    case = write_case(tmp_path / "demo")
    _download_exports(case)
    media = tmp_path / "media"
    media.mkdir()
    (media / "11_ep01_l1.mkv").write_bytes(b"")  # found by its stem; episode 2 is missing
    run = run_vss("export", case.folder, "--media", media, "--out", tmp_path / "linked")
    assert run.returncode == 1
    assert "episode 2" in run.stderr and "offline" in run.stderr and "13_ep02_l1" in run.stderr
    linked = references(tmp_path / "linked" / "timeline.fcpxml")
    assert (media / "11_ep01_l1.mkv").resolve().as_uri() in linked
    assert "13_ep02_l1.mp4" in linked  # kept as the cloud wrote it, and listed above
