"""The one time model: exact frame rates, frame ranges, and the rule for a clip that lacks
`frames` or `source_in_frame`, which the renderer, the exports and the report all follow."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction
from typing import Any

import pytest

from tests.support.render import blueprint, editing_script
from vss.domain.artifacts import BRollClip, DubbingScript, EditingScript
from vss.domain.dataset import parse_dataset
from vss.domain.media_time import FrameRange, clip_source_range, frame_rate
from vss.domain.payloads import EditingServiceParams
from vss.domain.timecode import Timecode
from vss.edge.render.plan import build_timeline
from vss.editing.exports import build_timeline as otio_timeline
from vss.editing.report import validate

NTSC = Fraction(30000, 1001)


def _clip(**fields: Any) -> BRollClip:
    return BRollClip.model_validate({"scene_id": 1, "chapter_id": 1, "end_time": "00:00:09.000",
                                     "start_time": "00:00:01.234", "duration": 1.0, **fields})


@pytest.mark.parametrize(("fps", "rate"), [(25, Fraction(25)), (29.97, NTSC),
                                           (23.976, Fraction(24000, 1001)), (12.5, Fraction(25, 2)),
                                           (Fraction(30000, 1001), NTSC)])
def test_a_frame_rate_is_an_exact_fraction(fps: float | Fraction, rate: Fraction):
    assert frame_rate(fps) == rate


@pytest.mark.parametrize("fps", [0, -25, float("nan"), float("inf"), Fraction(0)])
def test_a_frame_rate_must_be_positive_and_finite(fps: float | Fraction):
    with pytest.raises(ValueError, match="positive"):
        frame_rate(fps)


def test_a_frame_range_converts_to_seconds_and_timecodes():
    span = FrameRange(start=37, duration=30, rate=NTSC)
    assert span.end == 67
    assert span.start_seconds == pytest.approx(37 * 1001 / 30000)
    assert span.duration_seconds == pytest.approx(1.001)
    # Frame 37 starts at 1.234566 s: its timecode is the millisecond before, as ffmpeg seeks.
    assert span.start_timecode == Timecode.parse("00:00:01.234")
    assert span.end_timecode == Timecode.parse("00:00:02.235")


def test_a_clip_keeps_its_frames_and_derives_the_missing_ones_from_its_seconds():
    assert clip_source_range(_clip(source_in_frame=5, frames=7), NTSC) == FrameRange(5, 7, NTSC)
    # 1.234 s at 29.97: frame 37 starts at 1.2346 s, the first at or after; 1 s is 29.97
    # frames, rounded half up.
    assert clip_source_range(_clip(), NTSC) == FrameRange(37, 30, NTSC)
    assert clip_source_range(_clip(frames=12), Fraction(25)) == FrameRange(31, 12, Fraction(25))
    assert clip_source_range(_clip(source_in_frame=3, duration=0.02), Fraction(25)) == \
        FrameRange(3, 1, Fraction(25))  # half a frame rounds up


def test_a_bad_start_time_matters_only_when_the_start_frame_must_be_derived():
    assert clip_source_range(_clip(start_time="soon", source_in_frame=4), NTSC).start == 4
    with pytest.raises(ValueError, match="not a timecode"):
        clip_source_range(_clip(start_time="soon"), NTSC)


def _seed_script(fps: float) -> EditingScript:
    """The render case as the seed writes it (no frame fields), plus a key line without them
    that reads 15 frames the segment's first clip already shows."""
    raw = editing_script(seed_fields_only=True, fps=fps)
    shown = raw["editing_script"][1]["b_roll_clips"][0]  # scene 2 from frame 170, 25 frames
    key = FrameRange(start=180, duration=20, rate=frame_rate(fps))
    raw["editing_script"][1]["key_lines"] = [{
        "scene_id": 2, "chapter_id": 1, "start_time": key.start_timecode.format(),
        "end_time": key.end_timecode.format(), "duration": round(key.duration_seconds, 6),
        "audio_mode": "original"}]
    assert "source_in_frame" not in shown and "frames" not in shown
    return EditingScript.model_validate(raw)


def _overlap(ranges: list[tuple[int, int, int]]) -> int:
    """Frames of an episode covered by more than one (chapter, start, end)."""
    by_chapter: dict[int, list[int]] = defaultdict(list)
    for chapter, start, end in ranges:
        by_chapter[chapter].extend(range(start, end))
    return sum(len(f) - len(set(f)) for f in by_chapter.values())


@pytest.mark.parametrize("fps", [25.0, 29.97, 23.976])
def test_a_clip_without_frame_fields_is_cut_exported_and_reported_alike(fps: float):
    script = _seed_script(fps)
    dataset = parse_dataset(blueprint())
    rate = frame_rate(fps)
    clips = [c for s in script.editing_script for c in [*s.b_roll_clips, *s.key_lines]]
    rule = [clip_source_range(c, rate) for c in clips]

    planned = build_timeline(script).clips  # the renderer
    assert [(c.source_in, c.frames) for c in planned] == [(r.start, r.duration) for r in rule]

    video = otio_timeline(script, dataset, "case").video_tracks()[0]  # the NLE exports
    exported = [(round(c.source_range.start_time.to_frames()),
                 round(c.source_range.duration.to_frames())) for c in video.find_clips()]
    assert exported == [(r.start, r.duration) for r in rule]

    dubbing = DubbingScript.model_validate({"dubbing_script": [
        {"narration": s.narration, "source_scene_ids": [1], "audio_file_path": "a.wav",
         "duration_seconds": s.narration_duration} for s in script.editing_script]})
    report = validate(script, dubbing, dataset, EditingServiceParams(fps=fps))
    assert [c.covered_frames for c in report.segments] == [
        sum(c.frames for c in planned if c.segment == s and not c.key_line)
        for s in range(len(script.editing_script))]
    reused = _overlap([(c.chapter_id, c.source_in, c.end - c.start + c.source_in)
                       for c in planned])
    assert report.reused_frames == reused > 0  # the key line's derived range counts too
