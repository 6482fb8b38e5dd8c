"""The renderer's pure core: the timeline of whole frames, file lookup, source checks."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from tests.support.render import CLIPS, FPS, SOURCE_FILES, editing_script
from vss.domain.artifacts import EditingScript
from vss.domain.media_names import candidate_names, find_media, media_name
from vss.edge.render.plan import RenderError, build_timeline, frame_rate, load_script
from vss.edge.render.sources import MediaInfo, check_clips, clip_files, narration_files


def _timeline(seed_fields_only: bool = False, **kwargs):
    script = EditingScript.model_validate(editing_script(seed_fields_only))
    return build_timeline(script, **kwargs)


def test_the_editing_stage_fields_lay_out_every_clip_on_its_frame():
    timeline = _timeline()
    assert timeline.total_frames == sum(c[4] for c in CLIPS) == 111
    assert [c.start for c in timeline.clips] == [0, 30, 50, 75, 91]
    assert [(c.source_in, c.frames) for c in timeline.clips] == [(c[3], c[4]) for c in CLIPS]
    assert [(c.audio_mode, c.gain_db) for c in timeline.clips] == [
        ("ducked", -18.0), ("narration_only", None), ("ducked", -12.0), ("narration_only", None),
        ("original", 0.0)]
    assert timeline.clips[3].freeze and timeline.clips[3].source_frames_needed == 1
    assert timeline.clips[4].key_line and "key line 3" in timeline.clips[4].label
    assert not timeline.notes


def test_each_narration_starts_with_its_segment_and_may_sound_until_the_next():
    timeline = _timeline()
    assert [(q.start, q.frames, q.narration_frames) for q in timeline.cues] == [
        (0, 50, 50), (50, 61, 41)]  # the second's slot runs on through its key line
    assert [q.audio for q in timeline.cues] == ["seg_0000.wav", "seg_0001.wav"]


def test_a_seed_script_gets_the_documented_defaults():
    timeline = _timeline(seed_fields_only=True, duck_db=-9.0)
    assert [(c.source_in, c.frames) for c in timeline.clips] == [
        (c[3], c[4]) for c in CLIPS if not c[8]]
    assert {(c.audio_mode, c.gain_db) for c in timeline.clips} == {("ducked", -9.0)}
    assert all(c.source_file is None and not c.freeze for c in timeline.clips)
    with_files = _timeline(seed_fields_only=True, episode_files=SOURCE_FILES)
    assert [c.source_file for c in with_files.clips] == [SOURCE_FILES[c[2]] for c in CLIPS
                                                         if not c[8]]


@pytest.mark.parametrize(("fps", "rate"), [(25, Fraction(25)), (29.97, Fraction(30000, 1001)),
                                           (23.976, Fraction(24000, 1001)), (50.0, Fraction(50)),
                                           (59.94, Fraction(60000, 1001))])
def test_frame_rates_are_exact(fps: float, rate: Fraction):
    assert frame_rate(fps) == rate


@pytest.mark.parametrize("fps", [25.0, 29.97, 23.976, 60.0])
def test_a_seek_keeps_its_frame_and_drops_the_one_before(fps: float):
    script = editing_script()
    script["fps"] = fps
    timeline = build_timeline(EditingScript.model_validate(script))
    for frame in range(1, 200_000, 997):
        seek = Fraction(f"{timeline.seek_seconds(frame):.6f}")  # as FFmpeg reads it
        assert (frame - 1) / timeline.fps < seek <= frame / timeline.fps
    # audio positions never drift: sample(a + b) is cumulative, not a sum of roundings
    assert timeline.sample(timeline.total_frames) == round(
        timeline.total_frames * 48_000 / timeline.fps)


def test_a_timecode_maps_to_the_first_frame_at_or_after_it_at_ntsc_rates():
    script = editing_script(seed_fields_only=True)
    script["fps"] = 29.97
    clip = script["editing_script"][0]["b_roll_clips"][0]
    clip["start_time"] = "00:00:01.234"  # frame 37 starts at 1.2345 s, floored to the ms
    clip["duration"] = 1.0
    timeline = build_timeline(EditingScript.model_validate(script))
    assert (timeline.clips[0].source_in, timeline.clips[0].frames) == (37, 30)


def test_bad_clips_are_named_with_pointers():
    script = editing_script()
    del script["editing_script"][1]["b_roll_clips"][0]["source_in_frame"]
    script["editing_script"][1]["b_roll_clips"][0]["start_time"] = "soon"
    with pytest.raises(RenderError) as caught:
        build_timeline(EditingScript.model_validate(script))
    # (An unknown audio mode is refused by the EditingScript model itself.)
    assert "/editing_script/1/b_roll_clips/0/start_time" in str(caught.value)


def test_an_invalid_script_is_refused_with_pointers():
    with pytest.raises(RenderError, match=r"\(/editing_script\)"):
        load_script(b'{"editing_script": [], "fps": 25, "total_duration": 1}')


def test_mismatches_are_noted_not_hidden():
    script = editing_script()
    script["editing_script"][0]["narration_duration"] = 3.0
    script["total_frames"] = 100
    script["editing_script"][1]["b_roll_clips"][0]["timeline_start_frame"] = 49
    notes = build_timeline(EditingScript.model_validate(script)).notes
    assert any("segment 1: its clips last 50 frames, its narration 75" in n for n in notes)
    assert any("says 100 frames" in n for n in notes)
    assert any("at frame 49" in n for n in notes)


def test_episode_files_are_found_by_basename_stem_or_chapter_number():
    assert media_name(1, "29_ep01_l1.ass") == "29_ep01_l1.mp4"
    assert media_name(7, None) == "ep07.mp4"
    assert candidate_names(1, r"C:\subs\29_ep01_l1.ass")[0] == "29_ep01_l1.mp4"
    assert candidate_names(1, "media/ep1.mkv")[0] == "ep1.mkv"
    assert find_media(3, "x/37_ep03.ass", {"37_ep03.mov", "ep03.mp4"}) == "37_ep03.mov"
    assert find_media(3, "37_ep03.ass", {"ep03.mp4"}) == "ep03.mp4"
    assert find_media(3, None, {"ep3.mp4"}) is None


def test_a_missing_episode_names_the_clip_and_the_files_looked_for():
    timeline = _timeline()
    with pytest.raises(RenderError) as caught:
        clip_files(timeline, {"11_ep01_l1.mp4"}, "/media")
    problems = caught.value.problems
    assert len(problems) == 2  # both clips of episode 2
    assert problems[0].startswith("segment 1 clip 2 (scene 3, episode 2): no media file for "
                                  "episode 2 in /media (looked for 13_ep02_l1.mp4")


def test_a_missing_narration_is_named():
    with pytest.raises(RenderError, match=r"segment 2: its narration audio 'seg_0001\.wav'"):
        narration_files(_timeline(), {"seg_0000.wav"}, "/audio")


def test_a_short_source_names_the_clip_the_range_and_the_file():
    timeline = _timeline()
    files = clip_files(timeline, {"11_ep01_l1.mp4", "13_ep02_l1.mp4"}, "/m")
    long_enough = {"11_ep01_l1.mp4": MediaInfo("11_ep01_l1.mp4", 14.0),
                   "13_ep02_l1.mp4": MediaInfo("13_ep02_l1.mp4", 5.62)}
    check_clips(timeline, files, long_enough)  # the freeze-frame needs only frame 140
    short = {**long_enough, "11_ep01_l1.mp4": MediaInfo("11_ep01_l1.mp4", 8.5)}
    with pytest.raises(RenderError) as caught:
        check_clips(timeline, files, short)
    assert caught.value.problems == [
        "segment 2 key line 3 (scene 2, episode 1) needs 00:00:08.000-00:00:08.800 of "
        "11_ep01_l1.mp4, which is only 8.500 s long"]
    no_picture = {**long_enough, "13_ep02_l1.mp4": MediaInfo("13_ep02_l1.mp4", 9.0,
                                                             has_video=False)}
    with pytest.raises(RenderError, match=r"13_ep02_l1\.mp4 has no video stream"):
        check_clips(timeline, files, no_picture)


def test_clips_shorter_than_half_a_frame_are_left_out_with_a_note():
    script = editing_script(seed_fields_only=True)
    script["editing_script"][0]["b_roll_clips"][0]["duration"] = 0.01
    timeline = build_timeline(EditingScript.model_validate(script))
    assert len(timeline.clips) == 3
    assert any("shorter than half a frame" in n for n in timeline.notes)
    assert math.isclose(timeline.duration, (20 + 25 + 16) / FPS)
