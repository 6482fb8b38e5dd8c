"""The exported OTIO timeline read back into the renderer's timeline (`vss render
timeline.otio`): the editing stage's own export of a script lays out exactly the timeline the
renderer lays out from the script itself (every clip, frame, source range, audio mode, gain and
cue), linked or not; what the renderer cannot play is refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.support.editing import edge_copy, solve
from tests.support.render import SOURCE_FILES, blueprint, editing_script, write_case, write_exports
from vss.domain.artifacts import DubbingScript, EditingScript
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import EditingServiceParams
from vss.edge.exports import MediaFolders, file_url, link_exports
from vss.edge.render.from_otio import OtioTimeline, is_otio, read_timeline
from vss.edge.render.plan import RenderError, Timeline, build_timeline
from vss.edge.render.sources import (
    linked_clip_files,
    linked_narration_files,
    local_path,
    reference_name,
)
from vss.editing.exports import build_timeline as export_timeline
from vss.editing.exports import export_files
from vss.timeline_layout import SOURCE_AUDIO_TRACK, VIDEO_TRACK, volume_effect


def _exported(script: EditingScript, dataset: Dataset) -> str:
    (otio_file,) = [f for f in export_files(script, dataset, "case") if f.format == "otio"]
    return otio_file.data.decode()


def _rendered(script: EditingScript, dataset: Dataset) -> Timeline:
    """The timeline `vss render editing_script.json --dataset ...` lays out."""
    return build_timeline(script, episode_files={c.id: c.source_file for c in dataset.chapters
                                                 if c.source_file})


def _case(fps: float = 25) -> tuple[EditingScript, Dataset]:
    return (EditingScript.model_validate(editing_script(fps=fps)),
            parse_dataset(json.dumps(blueprint()).encode()))


@pytest.mark.parametrize("fps", [25, 29.97])
def test_the_render_case_s_export_reads_back_to_the_script_s_timeline(fps: float):
    """Every audio mode, a freeze-frame, a key line: the same timeline, field by field."""
    script, dataset = _case(fps)
    read = read_timeline(_exported(script, dataset))
    want = _rendered(script, dataset)
    assert read.timeline.clips == want.clips
    assert read.timeline.cues == want.cues
    assert (read.timeline.fps, read.timeline.total_frames, read.timeline.notes) == \
        (want.fps, want.total_frames, want.notes)
    assert read.timeline == want
    assert [(c.audio_mode, c.gain_db, c.freeze, c.key_line) for c in read.timeline.clips] == [
        ("ducked", -18.0, False, False), ("narration_only", None, False, False),
        ("ducked", -12.0, False, False), ("narration_only", None, True, False),
        ("original", 0.0, False, True)]
    assert read.clip_media == ("11_ep01_l1.mp4", "13_ep02_l1.mp4", "11_ep01_l1.mp4",
                               "13_ep02_l1.mp4", "11_ep01_l1.mp4")
    assert read.cue_media == ("seg_0000.wav", "seg_0001.wav")


@pytest.mark.parametrize(("audio", "modes"), [
    ({}, {"narration_only", "original"}),
    ({"dialogue_mode": "ducked", "duck_db": -15.0}, {"ducked", "original"})])
def test_the_real_blueprint_s_export_reads_back_to_the_script_s_timeline(
        blueprint_bytes: bytes, audio: dict[str, object], modes: set[str]):
    """The real blueprint cut by the editing stage, with a key line (as the export tests)."""
    dataset = parse_dataset(blueprint_bytes)
    dubbing = DubbingScript.model_validate(edge_copy())
    dubbing.dubbing_script[2].narration += "楚昊轩问：“你不冷吗？”"
    script = solve(dubbing, dataset, EditingServiceParams.model_validate({"audio": audio}))
    read = read_timeline(_exported(script, dataset))
    want = _rendered(script, dataset)
    assert len(want.clips) > 20 and any(c.key_line for c in want.clips)
    assert {c.audio_mode for c in want.clips} == modes
    assert read.timeline == want
    assert len(read.clip_media) == len(want.clips) and len(read.cue_media) == len(want.cues)


def test_a_linked_export_reads_back_the_same_and_names_its_files(tmp_path: Path):
    case = write_case(tmp_path / "case")
    otio_path = write_exports(case)
    media = tmp_path / "media"
    media.mkdir()
    for name in ("11_ep01_l1.mp4", "13_ep02_l1.mp4"):
        (media / name).touch()
    link_exports(case.folder, tmp_path / "linked", MediaFolders(media, case.folder, SOURCE_FILES))
    unlinked = read_timeline(otio_path.read_text())
    linked = read_timeline((tmp_path / "linked" / "timeline.otio").read_text())
    assert linked.timeline == unlinked.timeline
    assert [local_path(url) for url in linked.clip_media] == [
        (media / name).resolve() for name in unlinked.clip_media]
    assert [local_path(url) for url in linked.cue_media] == [
        (case.folder / name).resolve() for name in unlinked.cue_media]
    assert [c.audio for c in linked.timeline.cues] == ["seg_0000.wav", "seg_0001.wav"]


def test_references_name_their_files():
    folder = Path("/media/第 1 集")
    assert local_path(file_url(folder / "ep01.mp4")) == folder / "ep01.mp4"
    assert "%20" in file_url(folder / "ep01.mp4")  # percent-encoded, decoded back
    assert local_path("/abs/seg_0000.wav") == Path("/abs/seg_0000.wav")
    assert local_path("seg_0000.wav") is None and local_path("https://x/y.mp4") is None
    assert reference_name(file_url(folder / "旁白 1.wav")) == "旁白 1.wav"
    assert reference_name("seg_0000.wav") == "seg_0000.wav"
    assert is_otio("timeline.OTIO") and not is_otio("editing_script.json")


def _read_case() -> tuple[OtioTimeline, EditingScript, Dataset]:
    script, dataset = _case()
    return read_timeline(_exported(script, dataset)), script, dataset


def test_linked_files_are_used_when_there_else_the_media_folder(tmp_path: Path):
    read, _, _ = _read_case()
    timeline = read.timeline
    linked_episode = tmp_path / "elsewhere" / "11_ep01_l1.mp4"
    refs = [file_url(linked_episode) if c.chapter_id == 1 else ref
            for c, ref in zip(timeline.clips, read.clip_media, strict=True)]
    media = tmp_path / "media"
    files = linked_clip_files(timeline, refs, {linked_episode}, {"13_ep02_l1.mkv"}, media)
    assert files == [linked_episode, media / "13_ep02_l1.mkv", linked_episode,
                     media / "13_ep02_l1.mkv", linked_episode]
    # A link to a file not here falls back to the media folder's, by the episode.
    files = linked_clip_files(timeline, refs, set(), {"11_ep01_l1.mp4", "13_ep02_l1.mp4"},
                              media)
    assert files[0] == media / "11_ep01_l1.mp4"
    with pytest.raises(RenderError) as failed:
        linked_clip_files(timeline, refs, set(), set(), None)
    assert failed.value.problems[0] == (
        f"segment 1 clip 1 (scene 1, episode 1): {refs[0]} is not a file here, and no media "
        "folder to look for episode 1 in")
    assert failed.value.problems[1] == (
        "segment 1 clip 2 (scene 3, episode 2): no media folder to look for episode 2 in")
    audio = tmp_path / "audio"
    wav = tmp_path / "linked" / "seg_0000.wav"
    voices = linked_narration_files(timeline, [file_url(wav), "seg_0001.wav"], {wav},
                                    {"seg_0001.wav"}, audio)
    assert voices == [wav, audio / "seg_0001.wav"]
    with pytest.raises(RenderError) as failed:
        linked_narration_files(timeline, [file_url(wav), "seg_0001.wav"], set(), set(), audio)
    assert failed.value.problems == [
        f"segment 1: its narration audio {file_url(wav)!r} is not a file here, nor "
        f"'seg_0000.wav' in {audio}",
        f"segment 2: its narration audio 'seg_0001.wav' is not in {audio}"]


def _timeline_of(script: EditingScript, dataset: Dataset) -> otio.schema.Timeline:
    return export_timeline(script, dataset, "case")


def _text(timeline: otio.schema.Timeline) -> str:
    return str(otio.adapters.write_to_string(timeline, "otio_json"))


def _track(timeline: otio.schema.Timeline, name: str) -> otio.schema.Track:
    return next(t for t in timeline.tracks if t.name == name)


def test_the_mix_is_the_source_audio_track_s_not_the_script_s():
    """A level changed in an editor, or a clip's sound taken out, is what renders."""
    script, dataset = _case()
    timeline = _timeline_of(script, dataset)
    source = _track(timeline, SOURCE_AUDIO_TRACK)
    first = source[0]
    first.effects[:] = [volume_effect(-6.0)]
    clips = list(source.find_clips())
    key = clips[-1]
    source[source.index(key)] = otio.schema.Gap(source_range=key.source_range)
    read = read_timeline(_text(timeline)).timeline
    assert [(c.audio_mode, c.gain_db) for c in read.clips] == [
        ("ducked", -6.0), ("narration_only", None), ("ducked", -12.0),
        ("narration_only", None), ("narration_only", None)]
    # A heard clip without a level: its mode's default (the renderer's --duck-db when ducked).
    clips[1].effects[:] = []
    read = read_timeline(_text(timeline), duck_db=-9.0).timeline
    assert read.clips[2].gain_db == -9.0


def test_what_the_renderer_cannot_play_is_refused_by_name():
    script, dataset = _case()

    def problems(edit) -> list[str]:
        timeline = _timeline_of(script, dataset)
        edit(timeline)
        with pytest.raises(RenderError) as failed:
            read_timeline(_text(timeline))
        return failed.value.problems

    def second_picture(t):
        t.tracks.append(otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video))

    assert problems(second_picture) == [
        "the OTIO timeline has 2 picture tracks; the renderer renders one (the export's V1)"]

    def hole(t):
        video = _track(t, VIDEO_TRACK)
        video[1] = otio.schema.Gap(source_range=video[1].source_range)

    assert problems(hole) == ["track 'V1': a gap of 20 frames before clip "
                              "'seg001_00 scene 2' (frame 30)"]

    def transition(t):
        _track(t, VIDEO_TRACK).insert(1, otio.schema.Transition(name="dissolve"))

    assert problems(transition) == ["track 'V1': Transition 'dissolve' is not rendered (clips "
                                    "and gaps only)"]

    def moved_sound(t):
        source = _track(t, SOURCE_AUDIO_TRACK)
        clip = source[0]
        clip.source_range = otio.opentime.TimeRange(
            clip.source_range.start_time + otio.opentime.RationalTime(5, 25),
            clip.source_range.duration)

    assert problems(moved_sound) == [
        "track 'Source audio': clip 'seg000_00 scene 1' (frames 0-30) is not the sound of the "
        "picture clip there: the renderer plays each clip's own sound under it"]

    def old_export(t):
        for clip in _track(t, VIDEO_TRACK).find_clips():
            del clip.metadata["vss"]["segment"]

    found = problems(old_export)
    assert len(found) == 5 and found[0] == (
        "track 'V1': clip 'seg000_00 scene 1' lacks the export's metadata segment: export it "
        "again")

    def no_narration(t):
        t.tracks.remove(_track(t, "Narration"))

    assert problems(no_narration) == [
        "the OTIO timeline has no narration track (audio role 'dialogue', 'Narration')"]
    with pytest.raises(RenderError, match=r"^not an OpenTimelineIO file: JSON parse error"):
        read_timeline("{not json")
    with pytest.raises(RenderError, match=r"^the file holds no OTIO timeline \(Clip\)$"):
        read_timeline(_text(otio.schema.Clip(name="x")))
