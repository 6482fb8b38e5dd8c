"""Pieces of the editing core: frame positions, used ranges, keywords, audio modes and key
lines."""

from __future__ import annotations

import gc
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.editing import edge_copy, solve
from vss.domain import media_time
from vss.domain.artifacts import BRollClip, DubbingScript
from vss.domain.dataset import parse_dataset
from vss.domain.media_time import FrameRange, clip_source_range
from vss.domain.payloads import EditingServiceParams
from vss.editing import collector_paused
from vss.editing.frames import FrameClock, segment_frames
from vss.editing.material import Candidate, Line
from vss.editing.ranges import UsedRanges
from vss.editing.relevance import _STOP, Scored, keywords
from vss.editing.script import deterministic_rankings, prepare


def _han(char: str) -> bool:
    return "\u3400" <= char <= "\u4dbf" or "\u4e00" <= char <= "\u9fff" \
        or "\uf900" <= char <= "\ufaff"


def _keywords_by_definition(text: str) -> frozenset[str]:
    """Each pair of adjacent hanzi, each hanzi alone between non-hanzi, and each lower-cased
    Latin word of three letters or more that is not a stop word, found the slow way."""
    found = set()
    for i, char in enumerate(text):
        if not _han(char):
            continue
        if i + 1 < len(text) and _han(text[i + 1]):
            found.add(text[i:i + 2])
        elif not (i and _han(text[i - 1])):
            found.add(char)
    words = re.findall(r"[A-Za-z][A-Za-z'’-]{2,}", text)
    return frozenset(found | ({w.lower() for w in words} - _STOP))


@given(st.text(st.sampled_from("你好吗是的㐀豈 abcXY-'’，。3"), max_size=16))
@example("车小小，好戏开场了")
@example("宋 安娜 said: Where were you? It's OVER")
def test_keywords_are_hanzi_pairs_lone_hanzi_and_latin_words(text):
    assert keywords(text) == _keywords_by_definition(text)


@given(st.lists(st.floats(0, 60, allow_nan=False), min_size=1, max_size=200),
       st.sampled_from([23.976, 24.0, 25.0, 29.97, 30.0, 60.0]))
def test_segments_never_drift_from_the_concatenated_narration(durations, fps):
    clock = FrameClock.at(fps)
    spans = segment_frames(durations, clock)
    elapsed = 0.0
    for (start, frames), duration in zip(spans, durations, strict=True):
        assert abs(start - elapsed * clock.rate) <= 0.5 + 1e-6  # where the audio really is
        assert abs(frames - duration * clock.rate) <= 1 + 1e-6  # each segment within a frame
        elapsed += duration
    assert sum(frames for _, frames in spans) == clock.nearest_frame(elapsed)


@given(st.sampled_from([23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0, 12.5, 119.88]),
       st.integers(0, 10**9), st.floats(0, 10**6, allow_nan=False))
def test_the_clock_is_media_time_at_its_rate(fps, whole, seconds):
    """The clock keeps its rate's numerator and denominator as ints: the same results."""
    clock = FrameClock.at(fps)
    rate = clock.rate
    assert clock.frame_at_or_after(whole) == media_time.frame_at_or_after(whole, rate)
    assert clock.frame_at_or_before(whole) == media_time.frame_at_or_before(whole, rate)
    assert clock.nearest_frame(seconds) == media_time.nearest_frame(seconds, rate)
    assert clock.ms(whole) == media_time.frame_ms(whole, rate)
    assert clock.seconds(whole) == round(media_time.frame_seconds(whole, rate), 6)
    assert seconds * clock.frames_per_second == seconds * rate  # a float times the rate
    assert clock == FrameClock(rate) and hash(clock) == hash(FrameClock(rate))


def test_used_ranges_merge_and_answer_what_is_free():
    used = UsedRanges()
    for start, end in ((10, 20), (30, 40), (18, 31), (50, 60)):
        used.add(1, start, end)
    assert used.free(1, 0, 70) == [(0, 10), (40, 50), (60, 70)]
    assert used.free(2, 0, 70) == [(0, 70)]  # another episode
    assert used.overlap(1, 35, 55) == 10
    assert used.free(1, 0, 70, blocked=[(41, 45)]) == [(0, 10), (40, 41), (45, 50), (60, 70)]


def _script(blueprint_bytes: bytes, **params: object):
    dataset = parse_dataset(blueprint_bytes)
    dubbing = DubbingScript.model_validate(edge_copy())
    dubbing.dubbing_script[2].narration += "楚昊轩问：“你不冷吗？”"
    return solve(dubbing, dataset, EditingServiceParams.model_validate(params))


# NTSC's rates, where a float clock and the exact one part, and two whole ones.
EXACT_RATES = [23.976, 24.0, 25.0, 29.97, 59.94]


def _read_back(clip: BRollClip, clock: FrameClock) -> FrameRange:
    """The frames the shared rule reads from the clip's times alone, as it does for a clip
    that does not list them (an edge's edit, an NLE's import)."""
    return clip_source_range(
        clip.model_copy(update={"source_in_frame": None, "frames": None}), clock.rate)


@given(st.sampled_from(EXACT_RATES), st.integers(0, 4 * 3600 * 60), st.integers(1, 3600 * 60))
@example(29.97, 1009, 1)  # a float clock wrote 00:00:33.667, which is frame 1010
def test_the_times_the_clock_writes_read_back_as_its_frames(fps, start, frames):
    clock = FrameClock.at(fps)
    clip = BRollClip(scene_id=1, chapter_id=1, start_time=clock.timecode(start),
                     end_time=clock.timecode(start + frames), duration=clock.seconds(frames))
    assert _read_back(clip, clock) == FrameRange(start, frames, clock.rate)


@pytest.mark.parametrize("fps", EXACT_RATES)
def test_every_clip_of_a_script_reads_back_as_the_frames_it_lists(blueprint_bytes, fps):
    script = _script(blueprint_bytes, fps=fps)
    clock = FrameClock.at(script.fps)
    clips = [c for s in script.editing_script for c in [*s.b_roll_clips, *s.key_lines]]
    assert clips and any(s.key_lines for s in script.editing_script)  # key lines too
    for clip in clips:
        assert clip.source_in_frame is not None and clip.frames is not None
        assert _read_back(clip, clock) == FrameRange(clip.source_in_frame, clip.frames,
                                                     clock.rate)


def test_audio_modes_follow_the_rules_and_their_overrides(blueprint_bytes):
    script = _script(blueprint_bytes)
    clips = [c for s in script.editing_script for c in s.b_roll_clips]
    speech = [c for c in clips if c.kind in ("dialogue", "dialogue_group")]
    silent = [c for c in clips if c.kind in ("establishing", "action", "reaction")]
    assert speech and all(c.audio_mode == "narration_only" and c.source_gain_db is None
                          for c in speech)
    assert all(c.audio_mode == "ducked" and c.source_gain_db == -18 for c in silent)
    key = script.editing_script[2].key_lines
    assert [k.audio_mode for k in key] == ["original"] and key[0].source_gain_db == 0
    assert "你不冷吗" in (key[0].reason or "")

    custom = _script(blueprint_bytes, audio={"dialogue_mode": "ducked", "duck_db": -12,
                                             "key_lines": False})
    speech = [c for s in custom.editing_script for c in s.b_roll_clips
              if c.kind in ("dialogue", "dialogue_group")]
    assert speech and all(c.audio_mode == "ducked" and c.source_gain_db == -12
                          for c in speech)
    assert not any(s.key_lines for s in custom.editing_script)


def test_a_key_line_plays_after_its_segment_and_never_under_a_clip(blueprint_bytes):
    script = _script(blueprint_bytes)
    segment = script.editing_script[2]
    key = segment.key_lines[0]
    assert key.timeline_start_frame == segment.timeline_start_frame + segment.narration_frames
    nxt = script.editing_script[3]
    assert nxt.timeline_start_frame == key.timeline_start_frame + key.frames
    for clip in (c for s in script.editing_script for c in s.b_roll_clips):
        if clip.chapter_id == key.chapter_id:
            assert clip.source_in_frame + clip.frames <= key.source_in_frame or \
                clip.source_in_frame >= key.source_in_frame + key.frames


def test_the_totals_name_the_narration_and_the_video_and_agree(blueprint_bytes):
    script = _script(blueprint_bytes)
    keys = [k for s in script.editing_script for k in s.key_lines]
    assert keys  # so the video is longer than the narration
    # The video: frames and seconds of the same timeline, within a frame of each other.
    assert script.total_frames == sum(c.frames for s in script.editing_script
                                      for c in [*s.b_roll_clips, *s.key_lines])
    assert abs(script.total_frames / script.fps - script.timeline_duration) < 1 / script.fps
    # The narration: the seed's name and ours, the audio added up; its frames are the clips'.
    assert script.narration_duration == script.total_duration == round(
        sum(s.narration_duration for s in script.editing_script), 3)
    clock = FrameClock.at(script.fps)
    assert sum(s.narration_frames for s in script.editing_script) == \
        clock.nearest_frame(script.narration_duration)
    # What lies between them is the key lines, to the frame.
    key_seconds = sum(k.frames for k in keys) / script.fps
    assert abs(script.timeline_duration - script.narration_duration - key_seconds) \
        <= 1 / script.fps


def test_lines_windows_and_ranked_windows_have_all_their_fields(blueprint_bytes):
    """All are built from tuples of their fields (`tuple.__new__`), not by their named
    tuple's constructor, which would refuse a field too few."""
    dubbing = DubbingScript.model_validate(edge_copy())
    prepared = prepare(dubbing, parse_dataset(blueprint_bytes), EditingServiceParams())
    lines = [line for item in prepared.material.values() for line in item.lines]
    assert lines and {(type(line), len(line)) for line in lines} == {(Line, len(Line._fields))}
    windows = [c for item in prepared.material.values() for c in item.candidates]
    assert windows and {(type(c), len(c)) for c in windows} == {
        (Candidate, len(Candidate._fields))}
    ranked = [s for ranking in deterministic_rankings(prepared, dubbing) for s in ranking]
    assert ranked and {(type(s), len(s)) for s in ranked} == {(Scored, len(Scored._fields))}


def test_the_collector_is_paused_inside_and_left_as_it_was_found():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a step of the core inside the stage's pause
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
