"""The validation report's checks, one at a time, on the small render case: two segments over
two episodes, a freeze-frame and a key line (tests/support/render.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.render import blueprint, editing_script
from vss.domain.artifacts import DubbingScript, EditingScript
from vss.domain.dataset import parse_dataset
from vss.domain.editing_report import EditingReport, ReportIssue
from vss.domain.payloads import EditingServiceParams
from vss.editing.report import validate
from vss.editing.report_checks import CLIP_CHECKS, KEY_LINE_CHECKS

HOLD = ReportIssue(kind="hold", segment=1, clip=1,
                   message="freeze-frame of 00:00:05.600 in scene 4 for 0.640 s")


def _case() -> dict[str, Any]:
    """Segment 0: scene 1 (30 frames) and scene 3 (20); segment 1: scene 2 (25), a hold of
    scene 4 (16) and a key line of scene 2 (20). Each segment cites its scenes."""
    raw = editing_script()
    raw["editing_script"][0]["source_scene_ids"] = [1, 3]
    raw["editing_script"][1]["source_scene_ids"] = [2, 4]
    return raw


def _report(raw: dict[str, Any], **params: Any) -> EditingReport:
    script = EditingScript.model_validate(raw)
    dubbing = DubbingScript.model_validate({"dubbing_script": [
        {"narration": s.narration, "source_scene_ids": s.source_scene_ids,
         "duration_seconds": s.narration_duration, "audio_file_path": s.narration_audio_path}
        for s in script.editing_script]})
    settings = {"min_clip_seconds": 0.5, **params}
    return validate(script, dubbing, parse_dataset(blueprint()),
                    EditingServiceParams.model_validate(settings))


def _found(report: EditingReport) -> list[ReportIssue]:
    """Issues besides the case's own hold."""
    return [issue for issue in report.issues if issue != HOLD]


def _clip(raw: dict[str, Any], segment: int, clip: int) -> dict[str, Any]:
    return raw["editing_script"][segment]["b_roll_clips"][clip]


def test_the_case_is_clean_but_for_its_hold():
    report = _report(_case())
    assert report.ok and report.issues == [HOLD]
    assert report.hold_segments == [1] and report.segments[1].hold_frames == 16
    assert [c.covered_frames for c in report.segments] == [50, 41]
    assert report.cut_points == {"clean": 3, "word": 0, "mid_word": 0}


def test_the_checks_run_in_report_order():
    assert [check.__name__ for check in CLIP_CHECKS] == [
        "out_of_bounds", "hold", "mid_word_cut", "extension", "long_clip", "short_clip"]
    assert [check.__name__ for check in KEY_LINE_CHECKS] == ["out_of_bounds"]
    raw = _case()
    _clip(raw, 0, 0).update(cut_quality="mid_word", scene_id=2)
    raw["editing_script"][1]["key_lines"][0]["scene_id"] = 99
    report = _report(raw, max_clip_seconds=1.1, min_cited_share=0)
    assert [(i.kind, i.segment, i.clip) for i in report.issues] == [
        ("out_of_bounds", 0, 0), ("mid_word_cut", 0, 0), ("extension", 0, 0),
        ("long_clip", 0, 0), ("hold", 1, 1), ("out_of_bounds", 1, None)]


@pytest.mark.parametrize(("change", "message"), [
    ({"scene_id": 99}, "scene 99 is not in the dataset"),
    ({"chapter_id": 1}, "scene 3 is in chapter 2, not 1"),
    ({"start_time": "00:00:00.300"}, "start_time 00:00:00.300 is not frame 7"),
    ({"start_time": "0:00:00.3"}, "start_time 0:00:00.3 is not frame 7"),
    ({"start_time": "00:00:04.280", "source_in_frame": 107},
     "00:00:04.280 + 0.8 s leaves scene 3 (00:00:00.000 – 00:00:05.000)"),
])
def test_out_of_bounds_names_what_is_outside(change: dict[str, Any], message: str):
    raw = _case()
    _clip(raw, 0, 1).update(change)
    report = _report(raw)
    # (A clip moved to another scene or episode may also be an extension or a reuse.)
    assert [i for i in report.issues if i.kind == "out_of_bounds"] == [
        ReportIssue(kind="out_of_bounds", segment=0, clip=1, message=message)]
    assert report.out_of_bounds_clips == 1 and not report.ok


def test_a_start_time_written_otherwise_is_read_as_the_time_it_names():
    raw = _case()
    _clip(raw, 0, 1).update(start_time=" 0:00:00.28 ")  # frame 7, not as the core writes it
    assert _found(_report(raw)) == []


def test_out_of_bounds_holds_may_leave_their_scene_not_their_episode():
    raw = _case()
    _clip(raw, 1, 1).update(start_time="00:00:01.000", source_in_frame=25)  # scene 3's time
    assert _report(raw).ok
    _clip(raw, 1, 1).update(start_time="00:00:20.000", source_in_frame=500)
    report = _report(raw)
    assert [i.message for i in report.issues if i.kind == "out_of_bounds"] == [
        "held frame 00:00:20.000 is outside episode 2"]


def test_out_of_bounds_key_lines_say_so():
    raw = _case()
    raw["editing_script"][1]["key_lines"][0]["scene_id"] = 4
    assert _found(_report(raw)) == [ReportIssue(
        kind="out_of_bounds", segment=1, message="key line: scene 4 is in chapter 2, not 1")]


def test_a_hold_is_listed_and_counted_as_nothing_else():
    report = _report(_case(), min_clip_seconds=1.0, min_cited_share=1.0)
    assert HOLD in report.issues
    assert not any(i.clip == 1 and i.segment == 1 and i.kind != "hold" for i in report.issues)
    assert report.clip_lengths.clips == 3  # the hold is not a clip length


def test_mid_word_cut():
    raw = _case()
    _clip(raw, 0, 0)["cut_quality"] = "mid_word"
    report = _report(raw)
    assert _found(report) == [ReportIssue(kind="mid_word_cut", segment=0, clip=0,
                                          message="a cut inside a word of scene 1")]
    assert report.ok and report.cut_points["mid_word"] == 1


def test_extension():
    raw = _case()
    raw["editing_script"][0]["source_scene_ids"] = [1]
    report = _report(raw, min_cited_share=0)
    assert _found(report) == [ReportIssue(
        kind="extension", segment=0, clip=1,
        message="0.800 s from scene 3, which the segment does not cite")]
    assert report.extended_segments == [0] and report.segments[0].extended_frames == 20


def test_long_clip():
    report = _report(_case(), max_clip_seconds=1.0)
    assert _found(report) == [ReportIssue(kind="long_clip", segment=0, clip=0,
                                          message="1.200 s")]
    assert [c.long_clips for c in report.segments] == [1, 0] and report.ok


def test_short_clip_only_where_the_segment_could_have_avoided_it():
    report = _report(_case(), min_clip_seconds=1.0)
    assert _found(report) == [ReportIssue(kind="short_clip", segment=0, clip=1,
                                          message="0.800 s")]
    # Segment 1's narration (1.64 s) is shorter than 1.9 s: its clips are not flagged.
    report = _report(_case(), min_clip_seconds=1.9)
    assert [(i.segment, i.clip) for i in _found(report)] == [(0, 0), (0, 1)]
    assert [c.short_clips for c in report.segments] == [2, 0]


def test_coverage():
    raw = _case()
    _clip(raw, 0, 0).update(frames=31, duration=1.24)
    report = _report(raw)
    assert _found(report) == [ReportIssue(
        kind="coverage", segment=0, message="clips cover 51 frames, the narration needs 50 "
        "(2.0 s)")]
    assert report.segments[0].coverage_error_frames == 1.0
    assert report.max_coverage_error_frames == 1.0 and not report.ok


def test_below_cited_share():
    raw = _case()
    raw["editing_script"][0]["source_scene_ids"] = [1]
    report = _report(raw)
    assert [i for i in _found(report) if i.kind != "extension"] == [ReportIssue(
        kind="below_cited_share", segment=0,
        message="60% of the clip time comes from the cited scenes")]
    assert report.below_cited_share == [0] and report.segments[0].cited_share == 0.6
    assert report.cited_share == round(55 / 75, 4) and report.ok


def test_reuse_unless_allowed():
    raw = _case()
    raw["editing_script"][1]["key_lines"][0].update(start_time="00:00:06.800",
                                                    source_in_frame=170)
    report = _report(raw)
    assert _found(report) == [ReportIssue(kind="reuse", segment=-1, message=(
        "20 source frames are shown more than once"))]
    assert report.reused_frames == 20 and not report.ok
    allowed = _report(raw, allow_reuse=True)
    assert allowed.ok and allowed.reused_frames == 20 and allowed.issues == [HOLD]
