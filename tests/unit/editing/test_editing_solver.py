"""Properties of the clip solver on generated datasets (hypothesis): exact coverage, bounds,
source order, no reuse and clip lengths, checked from the script's own fields."""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.editing import solve
from vss.domain.artifacts import DubbingScript, EditingScript
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import EditingServiceParams
from vss.domain.timecode import Timecode
from vss.editing.frames import FrameClock, segment_frames
from vss.editing.report import validate

WORDS = ["林夏", "陈默", "秘密", "雨夜", "离开", "城市", "争吵", "电话", "真相", "婚礼"]


def _tc(ms: int) -> str:
    return Timecode(ms=ms).format()


@st.composite
def datasets(draw: st.DrawFn) -> dict[str, Any]:
    """Blueprints of 1-3 episodes of 1-6 scenes (0.3-40 s), each with 0-8 lines that are
    back to back, overlapping or apart, and gaps between scenes."""
    chapters: dict[str, Any] = {}
    scenes: dict[str, Any] = {}
    scene_id = 0
    for chapter in range(1, draw(st.integers(1, 3)) + 1):
        cursor = draw(st.integers(0, 5_000))
        ids = []
        for _ in range(draw(st.integers(1, 6))):
            scene_id += 1
            length = draw(st.integers(300, 40_000))
            lines, at = [], cursor + draw(st.integers(0, 3_000))
            for _ in range(draw(st.integers(0, 8))):
                start = at + draw(st.integers(-200, 1_500))
                end = start + draw(st.integers(300, 6_000))
                if start < cursor or end > cursor + length:
                    break
                words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4))
                lines.append({"content": "，".join(words) + "。", "speaker": words[0],
                              "start_time": _tc(start), "end_time": _tc(end)})
                at = end
            scenes[str(scene_id)] = {
                "id": scene_id, "chapter_id": chapter, "start_time": _tc(cursor),
                "end_time": _tc(cursor + length), "dialogues": lines,
                "character_dynamics": "、".join(draw(st.lists(st.sampled_from(WORDS),
                                                              max_size=3)))}
            ids.append(scene_id)
            cursor += length + draw(st.integers(0, 2_000))
        chapters[str(chapter)] = {"id": chapter, "name": f"ep{chapter}",
                                  "source_file": f"ep{chapter:02d}.mp4", "scene_ids": ids}
    sequence = {str(i): {"narrative_index": i} for i in range(1, scene_id + 1)}
    return {"project_metadata": {"project_name": "generated"}, "chapters": chapters,
            "scenes": scenes, "narrative_timeline": {"type": "linear", "sequence": sequence}}


@st.composite
def cases(draw: st.DrawFn) -> tuple[Dataset, DubbingScript, EditingServiceParams]:
    dataset = parse_dataset(draw(datasets()))
    ids = sorted(dataset.scenes)
    segments = []
    for i in range(draw(st.integers(1, 8))):
        cited = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=5))
        segments.append({"narration": "，".join(words) + "。", "source_scene_ids": cited,
                         "duration_seconds": draw(st.floats(0, 30, allow_nan=False)),
                         "audio_file_path": f"tasks/t/dubbing/narration_{i:03d}.wav"})
    dubbing = DubbingScript.model_validate({"dubbing_script": segments, "total_duration": 0})
    low = draw(st.sampled_from([1.0, 1.5, 2.0]))
    params = EditingServiceParams(
        fps=draw(st.sampled_from([24.0, 25.0, 30.0])), min_clip_seconds=low,
        max_clip_seconds=low * draw(st.sampled_from([2.5, 3.3, 5.0])),
        allow_reuse=draw(st.booleans()), audio={"key_lines": draw(st.booleans())})
    return dataset, dubbing, params


def _ranges(script: EditingScript) -> dict[int, list[tuple[int, int]]]:
    shown: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for segment in script.editing_script:
        for clip in [*segment.b_roll_clips, *segment.key_lines]:
            if not clip.freeze_frame:
                shown[clip.chapter_id].append((clip.source_in_frame, clip.source_in_frame
                                               + clip.frames))
    return shown


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_solver_invariants(case: tuple[Dataset, DubbingScript, EditingServiceParams]) -> None:
    dataset, dubbing, params = case
    script = solve(dubbing, dataset, params)
    clock = FrameClock.at(params.fps)
    m = math.ceil(params.min_clip_seconds * params.fps - 1e-6)
    big = math.floor(params.max_clip_seconds * params.fps + 1e-6)
    targets = segment_frames([s.duration_seconds for s in dubbing.dubbing_script], clock)
    for segment, dubbed, (_, target) in zip(script.editing_script, dubbing.dubbing_script,
                                            targets, strict=True):
        clips = segment.b_roll_clips
        frames = [c.frames for c in clips]
        # Exact coverage: the frames the timeline gives the segment, within one frame of
        # its audio.
        assert sum(frames) == target
        assert abs(sum(frames) / params.fps - dubbed.duration_seconds) <= 1 / params.fps
        assert math.isclose(math.fsum(c.duration for c in clips), target / params.fps,
                            abs_tol=1e-5 * max(1, len(clips)))
        held = any(c.freeze_frame for c in clips)
        for clip in clips:
            scene = dataset.scenes[clip.scene_id]
            start = Timecode.parse(clip.start_time)
            assert start.ms == clock.ms(clip.source_in_frame)
            if clip.freeze_frame:
                assert scene.start <= start <= scene.end
                continue
            # Bounds: inside the scene, so inside its episode.
            assert start >= scene.start
            assert start.ms + clip.duration * 1000 <= scene.end.ms + 1e-6
            assert clip.chapter_id == scene.chapter_id
        # Source order inside a segment, no overlap.
        real = [c for c in clips if not c.freeze_frame]
        order = [(dataset.chapters.index(dataset.chapter_of(c.scene_id)), c.source_in_frame,
                  c.source_in_frame + c.frames) for c in real]
        assert order == sorted(order)
        assert all(a[0] != b[0] or a[2] <= b[1] for a, b in pairwise(order))
        # Clip lengths: within bounds when the cited scenes had the footage (a single clip
        # shorter than the minimum only when the whole segment is).
        extended = any(c.scene_id not in segment.source_scene_ids for c in real)
        if not held and not extended:
            assert all(f >= min(m, target) for f in frames)
            long = [f for f in frames if f > big]
            assert len(long) <= 1 or all(c.origin == "cited" for c in real)
        if held:
            assert len([c for c in clips if c.freeze_frame]) == 1
    # No source range twice, unless allowed.
    if not params.allow_reuse:
        for ranges in _ranges(script).values():
            ranges.sort()
            assert all(a[1] <= b[0] for a, b in pairwise(ranges))
    report = validate(script, dubbing, dataset, params)
    assert report.ok, [i.message for i in report.issues if i.kind in
                       ("coverage", "out_of_bounds", "reuse", "inconsistent")]


@settings(max_examples=40, deadline=None)
@given(cases())
def test_the_solver_is_deterministic(case: tuple[Dataset, DubbingScript, EditingServiceParams]
                                     ) -> None:
    dataset, dubbing, params = case
    assert solve(dubbing, dataset, params) == solve(dubbing, dataset, params)


def test_ample_footage_gives_clips_within_bounds_from_the_cited_scenes_only() -> None:
    """Five 60 s scenes of lines 2.5 s apart; 20 s segments citing one each."""
    scenes = {str(i): {
        "id": i, "chapter_id": 1, "start_time": _tc((i - 1) * 60_000),
        "end_time": _tc(i * 60_000), "dialogues": [
            {"content": f"{WORDS[k % 10]}在{WORDS[(k + i) % 10]}。", "speaker": "林夏",
             "start_time": _tc((i - 1) * 60_000 + k * 2_500 + 300),
             "end_time": _tc((i - 1) * 60_000 + k * 2_500 + 2_100)} for k in range(23)]}
        for i in range(1, 6)}
    dataset = parse_dataset({"project_metadata": {}, "scenes": scenes,
                             "chapters": {"1": {"id": 1, "name": "ep1",
                                                "scene_ids": list(range(1, 6))}},
                             "narrative_timeline": {"type": "linear", "sequence": {}}})
    dubbing = DubbingScript.model_validate({"dubbing_script": [
        {"narration": f"林夏说起{WORDS[i]}。", "source_scene_ids": [i + 1],
         "duration_seconds": 20.0, "audio_file_path": f"a/n_{i}.wav"} for i in range(5)],
        "total_duration": 100})
    params = EditingServiceParams()
    script = solve(dubbing, dataset, params)
    report = validate(script, dubbing, dataset, params)
    assert report.ok and report.cited_share == 1.0 and not report.issues
    assert 1.5 <= report.clip_lengths.min_seconds <= report.clip_lengths.max_seconds <= 5.0
    assert report.cut_points == {"clean": report.clip_lengths.clips, "word": 0, "mid_word": 0}
