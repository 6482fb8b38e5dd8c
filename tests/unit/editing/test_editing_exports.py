"""Every export re-read by OpenTimelineIO: the same clips, durations and cut points as the
editing script, on the real blueprint and the edge's dubbing script. FCPXML, FCP 7 XML and the
EDL come from our own writers (OTIO's grew with the square of the script): OTIO's readers
must read them back to the timeline they were written from, track by track."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import PurePosixPath

import opentimelineio as otio
import pytest
from pydantic import ValidationError

from tests.support.editing import edge_copy, solve
from tests.support.synthetic import synthetic_blueprint
from vss.domain.artifacts import BRollClip, DeliveryFormat, DubbingScript, EditingScript
from vss.domain.dataset import parse_dataset
from vss.domain.media_names import media_reference
from vss.domain.payloads import EditingServiceParams
from vss.editing._edl import SOURCE_AUDIO_COMMENT
from vss.editing.exports import (
    NARRATION_TRACK,
    SOURCE_AUDIO_TRACK,
    VIDEO_TRACK,
    build_timeline,
    export_files,
)


@pytest.fixture(scope="module")
def solved(blueprint_bytes: bytes) -> tuple[EditingScript, dict[str, str]]:
    dataset = parse_dataset(blueprint_bytes)
    dubbing = DubbingScript.model_validate(edge_copy())
    # A quoted line in the narration makes a key line, so the exports carry one too.
    dubbing.dubbing_script[2].narration += "楚昊轩问：“你不冷吗？”"
    script = solve(dubbing, dataset)
    files = {f.format: f.data.decode() for f in export_files(script, dataset, dataset.title)}
    return script, files


def _clips(script: EditingScript) -> list[BRollClip]:
    return [c for s in script.editing_script for c in [*s.b_roll_clips, *s.key_lines]]


def _cuts(track: otio.schema.Track) -> list[tuple[int, int, int]]:
    """(record in, source in, frames) of each clip of a track."""
    return [(round(c.range_in_parent().start_time.to_frames()),
             round(c.source_range.start_time.to_frames()),
             round(c.source_range.duration.to_frames())) for c in track.find_clips()]


def _expected(script: EditingScript) -> list[tuple[int, int, int]]:
    return [(c.timeline_start_frame, c.source_in_frame, c.frames) for c in _clips(script)]


def _fcpxml_timeline(text: str) -> otio.schema.Timeline:
    """The project OTIO's reader finds in our FCPXML: a library's event is a collection."""
    event = otio.adapters.read_from_string(text, "fcpx_xml")
    (timeline,) = event
    return timeline


def test_the_script_has_a_key_line_in_original_audio(solved):
    script, _ = solved
    keys = script.editing_script[2].key_lines
    assert len(keys) == 1 and keys[0].audio_mode == "original"
    assert keys[0].scene_id in script.editing_script[2].source_scene_ids


def test_otio_keeps_every_clip_the_narration_and_the_heard_source_audio(solved):
    script, files = solved
    timeline = otio.adapters.read_from_string(files["otio"], "otio_json")
    assert timeline.global_start_time == otio.opentime.RationalTime(0, script.fps)
    video, narration, source = timeline.tracks
    assert _cuts(video) == _expected(script)
    assert round(video.duration().to_frames()) == script.total_frames
    assert narration.name == NARRATION_TRACK and source.name == SOURCE_AUDIO_TRACK
    narrated = [(c.name, round(c.range_in_parent().start_time.to_frames()),
                 round(c.duration().to_frames())) for c in narration.find_clips()]
    assert narrated == [(s.narration_audio_path.replace("\\", "/").rsplit("/", 1)[-1],
                         s.timeline_start_frame, s.narration_frames)
                        for s in script.editing_script]
    heard = [c for c in _clips(script) if c.audio_mode in ("ducked", "original")]
    assert [(round(c.range_in_parent().start_time.to_frames()),
             c.metadata["vss"]["audio_mode"]) for c in source.find_clips()] == \
        [(c.timeline_start_frame, c.audio_mode) for c in heard]
    # What the edge's renderer reads back besides the cuts (vss.edge.render.from_otio): each
    # clip's segment and whether it is a key line, each narration's text and duration.
    assert [(c.metadata["vss"]["segment"], c.metadata["vss"]["key_line"])
            for c in video.find_clips()] == \
        [(s, key) for s, segment in enumerate(script.editing_script)
         for key, clips in ((False, segment.b_roll_clips), (True, segment.key_lines))
         for _ in clips]
    assert [(c.metadata["vss"]["segment"], c.metadata["vss"]["narration"],
             c.metadata["vss"]["narration_duration"]) for c in narration.find_clips()] == \
        [(s, segment.narration, segment.narration_duration)
         for s, segment in enumerate(script.editing_script)]


def test_fcp7_xml_reads_back_with_the_same_cuts(solved):
    script, files = solved
    timeline = otio.adapters.read_from_string(files["fcp7_xml"], "fcp_xml")
    assert _cuts(timeline.video_tracks()[0]) == _expected(script)
    narration = [round(c.duration().to_frames())
                 for t in timeline.audio_tracks() for c in t.find_clips()
                 if c.name.endswith(".wav")]
    assert narration == [s.narration_frames for s in script.editing_script]


def test_fcpxml_holds_the_exact_cuts_and_reads_back_within_the_readers_rounding(solved):
    script, files = solved
    spine = ET.fromstring(files["fcpxml"]).find(".//spine")
    assert spine is not None
    exact = [(Fraction(c.get("offset", "0s").rstrip("s")) * int(script.fps),
              Fraction(c.get("start", "0s").rstrip("s")) * int(script.fps),
              Fraction(c.get("duration", "0s").rstrip("s")) * int(script.fps))
             for c in spine.findall("asset-clip")]
    assert exact == [tuple(Fraction(v) for v in cut) for cut in _expected(script)]
    # OTIO's FCPXML reader truncates `n/25s * 25` through a float (`int(1708 / 25 * 25)` is
    # 1707), so a value it reads back can be one frame short; the file itself is exact.
    timeline = _fcpxml_timeline(files["fcpxml"])
    # The reader names each track by its lane: the spine is "0".
    got = _cuts(next(t for t in timeline.tracks if t.name == "0"))
    want = _expected(script)
    assert len(got) == len(want)
    assert all(0 <= w - g <= 1 for cut, expected in zip(got, want, strict=True)
               for g, w in zip(cut, expected, strict=True))


def test_the_edl_is_the_video_track(solved):
    script, files = solved
    timeline = otio.adapters.read_from_string(files["edl"], "cmx_3600", rate=script.fps)
    assert len(timeline.tracks) == 1
    assert _cuts(timeline.tracks[0]) == _expected(script)


def test_a_hold_is_exported_as_a_freeze_frame(blueprint_bytes):
    dataset = parse_dataset(blueprint_bytes)
    # Scene 10 is 45 s long; its episode holds nothing else: 90 s of narration cannot be
    # cut from it without a hold.
    dubbing = DubbingScript.model_validate({"dubbing_script": [
        {"narration": "车小小脱掉外套，楚昊轩问她冷不冷。", "source_scene_ids": [10],
         "duration_seconds": 90.0, "audio_file_path": "tasks/x/dubbing/narration_000.wav"}],
        "total_duration": 90.0})
    script = solve(dubbing, dataset, EditingServiceParams())
    held = [c for c in script.editing_script[0].b_roll_clips if c.freeze_frame]
    assert len(held) == 1
    files = {f.format: f.data.decode() for f in export_files(script, dataset, "hold")}
    for fmt, adapter, options in (("otio", "otio_json", {}),
                                  ("edl", "cmx_3600", {"rate": script.fps})):
        timeline = otio.adapters.read_from_string(files[fmt], adapter, **options)
        frozen = [c for c in timeline.video_tracks()[0].find_clips()
                  if any(isinstance(e, otio.schema.FreezeFrame) for e in c.effects)]
        assert len(frozen) == 1, fmt
        assert round(frozen[0].duration().to_frames()) == held[0].frames


Placed = tuple[str, int, int, int]  # (clip name, record in, source in, frames)


def _placed(track: otio.schema.Track) -> list[Placed]:
    return [(c.name, round(c.range_in_parent().start_time.to_frames()),
             round(c.source_range.start_time.to_frames()),
             round(c.source_range.duration.to_frames())) for c in track.find_clips()]


def _read_back(fmt: str, text: str, fps: float) -> dict[str, list[Placed]]:
    """The clips of each track OTIO's reader finds in `text`, by our track names."""
    if fmt == "edl":
        timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=fps)
        return {VIDEO_TRACK: _placed(timeline.tracks[0])}
    if fmt == "fcpxml":
        # The reader names each track by its lane: the spine is 0, connected lanes -1, -2;
        # a lane with no clip is not there at all.
        # (The timeline is kept in a name: its tracks die with it.)
        timeline = _fcpxml_timeline(text)
        lanes = {t.name: t for t in timeline.tracks}
        return {name: _placed(lanes[lane]) if lane in lanes else [] for name, lane in (
            (VIDEO_TRACK, "0"), (NARRATION_TRACK, "-1"), (SOURCE_AUDIO_TRACK, "-2"))}
    timeline = otio.adapters.read_from_string(text, "fcp_xml")
    return {t.name: _placed(t) for t in timeline.tracks}


def _long_script() -> tuple[EditingScript, otio.schema.Timeline, dict[str, str]]:
    """120 segments of 8-24 s over 240 generated scenes: about 700 clips."""
    dataset = parse_dataset(synthetic_blueprint(240))
    dubbing = DubbingScript.model_validate({"dubbing_script": [
        {"narration": f"第{2 * i + 1}场，林夏发现了陈默隐瞒的秘密。",
         "source_scene_ids": [2 * i + 1, 2 * i + 2], "duration_seconds": 8 + (i * 7) % 17,
         "audio_file_path": f"tasks/t/dubbing/n_{i:03d}.wav"}
        for i in range(120)], "total_duration": 0.0})
    script = solve(dubbing, dataset)
    files = {f.format: f.data.decode() for f in export_files(script, dataset, "long")}
    return script, build_timeline(script, dataset, "long"), files


@pytest.mark.parametrize("fmt", ["fcp7_xml", "fcpxml", "edl"])
@pytest.mark.parametrize("case", ["real blueprint", "long script"])
def test_our_writers_files_read_back_to_the_timelines_clips(solved, blueprint_bytes, fmt, case):
    if case == "real blueprint":
        script, files = solved
        dataset = parse_dataset(blueprint_bytes)
        timeline = build_timeline(script, dataset, dataset.title)
    else:
        script, timeline, files = _long_script()
    written = {t.name: _placed(t) for t in timeline.tracks}
    read = _read_back(fmt, files[fmt], script.fps)
    assert set(read) <= set(written) and VIDEO_TRACK in read
    for name, clips in read.items():
        assert [c[0] for c in clips] == [c[0] for c in written[name]], (fmt, name)
        if fmt == "fcpxml":  # its reader truncates through a float: up to a frame short
            assert all(0 <= w - g <= 1 for got, want in zip(clips, written[name], strict=True)
                       for g, w in zip(got[1:], want[1:], strict=True)), name
        else:
            assert clips == written[name], (fmt, name)


def test_the_edl_is_the_one_otios_own_writer_wrote(solved, blueprint_bytes):
    """Ours writes the same lines, only in one pass (OTIO's is fine at this size)."""
    script, files = solved
    dataset = parse_dataset(blueprint_bytes)
    timeline = build_timeline(script, dataset, dataset.title)
    for track in [t for t in timeline.tracks if t.kind != otio.schema.TrackKind.Video]:
        timeline.tracks.remove(track)
    # Less our own comment of each event's source audio, which OTIO's writer does not know.
    ours = "".join(line for line in files["edl"].splitlines(keepends=True)
                   if not line.startswith(SOURCE_AUDIO_COMMENT))
    assert ours == otio.adapters.write_to_string(timeline, "cmx_3600", rate=script.fps)


def test_media_are_named_as_the_edge_finds_them(solved, blueprint_bytes):
    """Each episode by its video's name (not the subtitle file the dataset names), each
    narration by its WAV's basename, beside the export."""
    script, files = solved
    dataset = parse_dataset(blueprint_bytes)
    sources = {c.id: c.source_file for c in dataset.chapters}
    timeline = otio.adapters.read_from_string(files["otio"], "otio_json")
    video, narration, source = timeline.tracks
    for clip in [*video.find_clips(), *source.find_clips()]:
        chapter = clip.metadata["vss"]["chapter_id"]
        assert clip.media_reference.target_url == media_reference(chapter, sources[chapter])
        assert clip.media_reference.target_url.endswith(".mp4")
        assert clip.metadata["vss"]["source_media"] == \
            clip.media_reference.target_url.removesuffix(".mp4")
    assert [c.media_reference.target_url for c in narration.find_clips()] == \
        [PurePosixPath(s.narration_audio_path.replace("\\", "/")).name
         for s in script.editing_script]
    assert not any(".ass" in files[fmt] for fmt in ("fcpxml", "fcp7_xml", "edl"))


def test_every_export_carries_the_delivery_format(blueprint_bytes):
    dataset = parse_dataset(blueprint_bytes)
    dubbing = DubbingScript.model_validate(edge_copy())
    params = EditingServiceParams.model_validate({"delivery": {"width": 1280, "height": 720}})
    script = solve(dubbing, dataset, params)
    assert script.delivery == DeliveryFormat(fps=25.0, width=1280, height=720)
    files = {f.format: f.data.decode() for f in export_files(script, dataset, "delivery")}
    timeline = otio.adapters.read_from_string(files["otio"], "otio_json")
    assert timeline.metadata["vss"]["delivery"] == {"fps": 25.0, "width": 1280, "height": 720}
    fcpxml_format = ET.fromstring(files["fcpxml"]).find("./resources/format")
    assert fcpxml_format is not None
    assert (fcpxml_format.get("width"), fcpxml_format.get("height"),
            fcpxml_format.get("frameDuration")) == ("1280", "720", "1/25s")
    size = ET.fromstring(files["fcp7_xml"]).find(
        "./sequence/media/video/format/samplecharacteristics")
    assert size is not None and (size.findtext("width"), size.findtext("height")) == \
        ("1280", "720")


@pytest.mark.parametrize("delivery", [{"width": 0}, {"height": -1080}, {"fps": 0},
                                      {"fps": 500}, {"width": 100_000}])
def test_a_delivery_format_out_of_range_is_refused(delivery):
    with pytest.raises(ValidationError):
        EditingServiceParams.model_validate({"delivery": delivery})


def test_the_preview_mix_is_in_every_export_that_can_hold_it(blueprint_bytes):
    dataset = parse_dataset(blueprint_bytes)
    dubbing = DubbingScript.model_validate(edge_copy())
    dubbing.dubbing_script[2].narration += "楚昊轩问：“你不冷吗？”"  # a key line, at 0 dB
    params = EditingServiceParams.model_validate({"audio": {"dialogue_mode": "ducked"}})
    script = solve(dubbing, dataset, params)
    files = {f.format: f.data.decode() for f in export_files(script, dataset, "mix")}
    heard = [c for c in _clips(script) if c.audio_mode in ("ducked", "original")
             and not c.freeze_frame]
    gains = [c.source_gain_db for c in heard]
    assert -18.0 in gains and 0.0 in gains  # ducked clips and the key line
    timeline = otio.adapters.read_from_string(files["otio"], "otio_json")
    source = timeline.tracks[2]
    assert [e.metadata["vss"]["gain_db"] for c in source.find_clips() for e in c.effects
            if e.effect_name == "Volume"] == gains
    assert [c.metadata["vss"]["source_gain_db"] for c in source.find_clips()] == gains
    fcpxml = ET.fromstring(files["fcpxml"])
    lane = [c for c in fcpxml.iter("asset-clip") if c.get("audioRole") == "source"]
    assert [c.find("adjust-volume").get("amount") for c in lane] == \
        [f"{g:g}dB" for g in gains]
    assert {c.get("audioRole") for c in fcpxml.iter("asset-clip") if c.get("lane")} == \
        {"dialogue", "source"}
    levels = [float(v.text or "") for v in ET.fromstring(files["fcp7_xml"]).iter("value")]
    assert levels == pytest.approx([10 ** (g / 20) for g in gains], rel=1e-5)
    comments = [line for line in files["edl"].splitlines()
                if line.startswith(SOURCE_AUDIO_COMMENT)]
    assert len(comments) == len(_clips(script))
    assert sum("DUCKED -18 DB" in line for line in comments) == gains.count(-18.0)
