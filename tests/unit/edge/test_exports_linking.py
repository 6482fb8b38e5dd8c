"""The edge links the cloud's exports of the real blueprint to the files it finds: every
reference in all four formats an absolute file URL to an existing file, each episode by the
renderer's lookup, each narration by its WAV's basename; what is missing is listed."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

import pytest

from tests.support.editing import edge_copy, solve
from tests.support.exports import EXPORTS, references
from vss.domain.artifacts import DubbingScript, EditingScript
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.media_names import VIDEO_EXTENSIONS, media_name
from vss.edge.commands import link_exports_for
from vss.edge.exports import MediaFolders, link_exports
from vss.edge.state import (
    DatasetState,
    FileState,
    RunState,
    is_present,
    load_state,
    save_state,
)
from vss.editing.exports import export_files


@pytest.fixture()
def downloaded(tmp_path: Path, blueprint_bytes: bytes) -> tuple[Path, EditingScript, Dataset]:
    """The exports and the narration WAVs in one folder, as `vss run` leaves them."""
    dataset = parse_dataset(blueprint_bytes)
    script = solve(DubbingScript.model_validate(edge_copy()), dataset)
    out = tmp_path / "demo"
    out.mkdir()
    for export in export_files(script, dataset, dataset.title):
        (out / PurePosixPath(export.name).name).write_bytes(export.data)
    for segment in script.editing_script:
        (out / segment.narration_audio_path.replace("\\", "/").rsplit("/", 1)[-1]).touch()
    return out, script, dataset


def _media(folder: Path, script: EditingScript, dataset: Dataset, skip: int | None = None
           ) -> dict[int, Path]:
    """A file per episode the script uses, as `vss demo-media` names it (one as `.mkv`)."""
    sources = {c.id: c.source_file for c in dataset.chapters}
    chapters = sorted({c.chapter_id for s in script.editing_script
                       for c in [*s.b_roll_clips, *s.key_lines]})
    folder.mkdir()
    files = {}
    for n, chapter in enumerate(chapters):
        if chapter == skip:
            continue
        name = media_name(chapter, sources[chapter])
        path = folder / (name.removesuffix(".mp4") + ".mkv" if n == 0 else name)
        path.touch()
        files[chapter] = path
    return files


def _path(url: str) -> Path:
    parsed = urlparse(url)
    assert parsed.scheme == "file", url
    return Path(unquote(parsed.path))


def test_every_reference_of_every_export_resolves_to_its_file(downloaded, tmp_path):
    out, script, dataset = downloaded
    files = _media(tmp_path / "media", script, dataset)
    linked = link_exports(out, out, MediaFolders(tmp_path / "media", out))
    assert not linked.missing
    assert sorted(p.name for p in linked.written) == sorted(EXPORTS)
    wavs = {s.narration_audio_path.replace("\\", "/").rsplit("/", 1)[-1]
            for s in script.editing_script}
    for name in EXPORTS:
        found = {_path(url) for url in references(out / name)}
        assert all(p.is_file() for p in found), name
        pictures = {p for p in found if p.suffix in VIDEO_EXTENSIONS}
        assert pictures == {p.resolve() for p in files.values()}, name
        if name != "timeline.edl":  # CMX 3600: the picture only
            assert {p.name for p in found - pictures} == wavs, name
            assert all(p.parent == out.resolve() for p in found - pictures)


def test_linking_again_links_the_same_files(downloaded, tmp_path):
    out, script, dataset = downloaded
    _media(tmp_path / "media", script, dataset)
    folders = MediaFolders(tmp_path / "media", out)
    link_exports(out, out, folders)
    first = {name: (out / name).read_text(encoding="utf-8") for name in EXPORTS}
    again = link_exports(out, out, folders)
    assert not again.missing
    assert {name: (out / name).read_text(encoding="utf-8") for name in EXPORTS} == first


def test_a_missing_episode_or_narration_is_listed(downloaded, tmp_path):
    out, script, dataset = downloaded
    chapter = script.editing_script[0].b_roll_clips[0].chapter_id
    _media(tmp_path / "media", script, dataset, skip=chapter)
    first_wav = script.editing_script[0].narration_audio_path.replace("\\", "/").rsplit("/")[-1]
    (out / first_wav).unlink()
    linked = link_exports(out, tmp_path / "linked", MediaFolders(tmp_path / "media", out))
    assert len(linked.missing) == 2
    assert any(f"episode {chapter}" in line for line in linked.missing)
    assert any(first_wav in line for line in linked.missing)
    assert first_wav in references(tmp_path / "linked" / "timeline_fcp7.xml")


def test_no_otio_export_nothing_to_link(tmp_path):
    linked = link_exports(tmp_path, tmp_path, MediaFolders(tmp_path, tmp_path))
    assert not linked.written and not linked.missing


def test_a_later_run_keeps_the_linked_exports_it_downloaded(downloaded, tmp_path):
    """`vss run` records what it downloaded; linking records the linked bytes, so the next
    run finds them present and does not fetch the cloud's copy over them."""
    out, script, dataset = downloaded
    _media(tmp_path / "media", script, dataset)
    names = {f"tasks/t/editing/{name}": out / name for name in EXPORTS}
    state = RunState(fingerprint="f", api_url="u", instance_id="i",
                     dataset=DatasetState(file="d", sha256="s"), files={
                         rel: FileState(name=path.name, size=path.stat().st_size,
                                        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                                        checked="record") for rel, path in names.items()})
    save_state(out, state)
    link_exports_for(out, out, tmp_path / "media", out, None)
    saved = load_state(out)
    assert saved is not None
    assert all(is_present(out, record) for record in saved.files.values())
    assert all("file://" in (out / name).read_text(encoding="utf-8") for name in EXPORTS)
