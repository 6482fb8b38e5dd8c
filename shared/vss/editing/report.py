"""The validation report: the finished editing script checked against the dataset and the
dubbing script, from the script's own fields (timecodes, frames, durations), not from the
solver's state, so a bug in the solver shows up here."""

from __future__ import annotations

import statistics
from collections import defaultdict

from vss.domain.artifacts import BRollClip, DubbingScript, EditingScript
from vss.domain.dataset import Dataset
from vss.domain.editing_report import (
    ClipLengths,
    EditingReport,
    LengthBucket,
    ReportIssue,
    SegmentCheck,
)
from vss.domain.media_time import clip_source_range, frame_rate
from vss.domain.payloads import EditingServiceParams
from vss.domain.timecode import Timecode
from vss.editing.frames import FrameClock, segment_frames

_BUCKETS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 8.0)
_TOLERANCE_S = 1e-6


def validate(script: EditingScript, dubbing: DubbingScript, dataset: Dataset,
             params: EditingServiceParams) -> EditingReport:
    clock = FrameClock(script.fps)
    rate = frame_rate(script.fps)
    issues: list[ReportIssue] = []
    checks: list[SegmentCheck] = []
    shown: dict[int, list[tuple[int, int]]] = defaultdict(list)
    extent: dict[int, tuple[int, int]] = {}
    for scene in dataset.scenes.values():
        low, high = extent.get(scene.chapter_id, (scene.start.ms, scene.end.ms))
        extent[scene.chapter_id] = (min(low, scene.start.ms), max(high, scene.end.ms))
    lengths: list[float] = []
    cuts = {"clean": 0, "word": 0, "mid_word": 0}
    out_of_bounds = 0
    targets = segment_frames([s.duration_seconds for s in dubbing.dubbing_script], clock)
    cited_total = clip_total = 0
    for index, (segment, (_, target)) in enumerate(
            zip(script.editing_script, targets, strict=True)):
        cited_ids = set(segment.source_scene_ids)
        covered = cited = extended = held = long_clips = short_clips = 0
        for c, clip in enumerate(segment.b_roll_clips):
            span = clip_source_range(clip, rate)
            frames = span.duration
            covered += frames
            problem = _bounds(clip, dataset, extent, clock)
            if problem:
                out_of_bounds += 1
                issues.append(ReportIssue(kind="out_of_bounds", segment=index, clip=c,
                                          message=problem))
            if clip.freeze_frame:
                held += frames
                issues.append(ReportIssue(kind="hold", segment=index, clip=c, message=(
                    f"freeze-frame of {clip.start_time} in scene {clip.scene_id} for "
                    f"{clip.duration:.3f} s")))
                continue
            lengths.append(clip.duration)
            cuts[clip.cut_quality or "clean"] += 1
            if clip.cut_quality == "mid_word":
                issues.append(ReportIssue(kind="mid_word_cut", segment=index, clip=c,
                                          message=f"a cut inside a word of scene "
                                                  f"{clip.scene_id}"))
            shown[clip.chapter_id].append((span.start, span.end))
            if clip.scene_id in cited_ids:
                cited += frames
            else:
                extended += frames
                issues.append(ReportIssue(kind="extension", segment=index, clip=c, message=(
                    f"{clip.duration:.3f} s from scene {clip.scene_id}, which the segment "
                    f"does not cite")))
            if clip.duration > params.max_clip_seconds + _TOLERANCE_S:
                long_clips += 1
                issues.append(ReportIssue(kind="long_clip", segment=index, clip=c,
                                          message=f"{clip.duration:.3f} s"))
            if clip.duration < params.min_clip_seconds - _TOLERANCE_S \
                    and segment.narration_duration >= params.min_clip_seconds:
                short_clips += 1
                issues.append(ReportIssue(kind="short_clip", segment=index, clip=c,
                                          message=f"{clip.duration:.3f} s"))
        for key in segment.key_lines:
            problem = _bounds(key, dataset, extent, clock)
            if problem:
                out_of_bounds += 1
                issues.append(ReportIssue(kind="out_of_bounds", segment=index,
                                          message=f"key line: {problem}"))
            key_span = clip_source_range(key, rate)
            shown[key.chapter_id].append((key_span.start, key_span.end))
        error_frames = covered - segment.narration_duration * script.fps
        if covered != target or abs(error_frames) > 1 + _TOLERANCE_S:
            issues.append(ReportIssue(kind="coverage", segment=index, message=(
                f"clips cover {covered} frames, the narration needs {target} "
                f"({segment.narration_duration} s)")))
        footage = covered - held
        share = cited / footage if footage else (1.0 if not held else 0.0)
        if share + _TOLERANCE_S < params.min_cited_share:
            issues.append(ReportIssue(kind="below_cited_share", segment=index, message=(
                f"{share:.0%} of the clip time comes from the cited scenes")))
        cited_total += cited
        clip_total += footage
        checks.append(SegmentCheck(
            index=index, narration_seconds=segment.narration_duration, target_frames=target,
            covered_frames=covered, coverage_error_frames=round(error_frames, 4),
            coverage_error_seconds=round(error_frames / script.fps, 6),
            clips=len(segment.b_roll_clips), cited_share=round(share, 4),
            extended_frames=extended, hold_frames=held, long_clips=long_clips,
            short_clips=short_clips, key_lines=len(segment.key_lines)))
    reused = sum(_overlapping(ranges) for ranges in shown.values())
    if reused and not params.allow_reuse:
        issues.append(ReportIssue(kind="reuse", segment=-1, message=(
            f"{reused} source frames are shown more than once")))
    failures = {"coverage", "out_of_bounds", "inconsistent"} | (
        set() if params.allow_reuse else {"reuse"})
    return EditingReport(
        fps=script.fps, ranking=script.ranking or "deterministic",
        min_clip_seconds=params.min_clip_seconds, max_clip_seconds=params.max_clip_seconds,
        min_cited_share=params.min_cited_share, segments=checks,
        max_coverage_error_frames=max((abs(c.coverage_error_frames) for c in checks),
                                      default=0.0),
        out_of_bounds_clips=out_of_bounds, reused_frames=reused,
        hold_segments=[c.index for c in checks if c.hold_frames],
        extended_segments=[c.index for c in checks if c.extended_frames],
        below_cited_share=sorted({i.segment for i in issues if i.kind == "below_cited_share"}),
        cited_share=round(cited_total / clip_total, 4) if clip_total else 1.0,
        clip_lengths=_distribution(lengths), cut_points=cuts, issues=issues,
        ok=not any(issue.kind in failures for issue in issues))


def _bounds(clip: BRollClip, dataset: Dataset, extent: dict[int, tuple[int, int]],
            clock: FrameClock) -> str | None:
    """Why the clip reads outside its scene (or, for a hold, its episode); None if inside."""
    scene = dataset.scenes.get(clip.scene_id)
    if scene is None:
        return f"scene {clip.scene_id} is not in the dataset"
    if scene.chapter_id != clip.chapter_id:
        return f"scene {clip.scene_id} is in chapter {scene.chapter_id}, not {clip.chapter_id}"
    start = Timecode.parse(clip.start_time).ms
    if clip.source_in_frame is not None and start != clock.ms(clip.source_in_frame):
        return f"start_time {clip.start_time} is not frame {clip.source_in_frame}"
    if clip.freeze_frame:
        low, high = extent[clip.chapter_id]
        return None if low <= start < high else f"held frame {clip.start_time} is outside " \
            f"episode {clip.chapter_id}"
    end = start + clip.duration * 1000
    if start < scene.start.ms or end > scene.end.ms + _TOLERANCE_S * 1000:
        return (f"{clip.start_time} + {clip.duration} s leaves scene {scene.id} "
                f"({scene.start} – {scene.end})")
    return None


def _overlapping(ranges: list[tuple[int, int]]) -> int:
    """Frames covered more than once by `ranges`."""
    events = sorted([(start, 1) for start, _ in ranges] + [(end, -1) for _, end in ranges])
    depth, last, twice = 0, 0, 0
    for position, step in events:
        if depth > 1:
            twice += position - last
        depth += step
        last = position
    return twice


def _distribution(lengths: list[float]) -> ClipLengths:
    if not lengths:
        return ClipLengths(clips=0, min_seconds=0, p10_seconds=0, median_seconds=0,
                           p90_seconds=0, max_seconds=0, mean_seconds=0, histogram=[])
    ordered = sorted(lengths)
    deciles = statistics.quantiles(ordered, n=10) if len(ordered) > 1 else [ordered[0]] * 9
    buckets = [LengthBucket(up_to_seconds=b, clips=sum(
        1 for x in ordered if lower < x <= b)) for lower, b in
        zip((0.0, *_BUCKETS), _BUCKETS, strict=False)]
    buckets.append(LengthBucket(up_to_seconds=None,
                                clips=sum(1 for x in ordered if x > _BUCKETS[-1])))
    return ClipLengths(
        clips=len(ordered), min_seconds=ordered[0], p10_seconds=round(deciles[0], 3),
        median_seconds=round(statistics.median(ordered), 3), p90_seconds=round(deciles[-1], 3),
        max_seconds=ordered[-1], mean_seconds=round(statistics.fmean(ordered), 3),
        histogram=buckets)
