"""The validation report: the finished editing script checked against the dataset and the
dubbing script, from the script's own fields (timecodes, frames, durations), not from the
solver's state, so a bug in the solver shows up here.

`validate` composes the checks of `vss.editing.report_checks` (one function each) and sums
up what they found; the order it runs them in is the order of the report's issues.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections import defaultdict

from vss.domain.artifacts import BRollClip, DubbingScript, EditingScript, EditingSegment
from vss.domain.dataset import Dataset
from vss.domain.editing_report import (
    ClipLengths,
    EditingReport,
    LengthBucket,
    ReportIssue,
    SegmentCheck,
)
from vss.domain.media_time import clip_source_range
from vss.domain.payloads import EditingServiceParams
from vss.editing._collector import collector_paused
from vss.editing.frames import FrameClock, segment_frames
from vss.editing.report_checks import (
    CLIP_CHECKS,
    KEY_LINE_CHECKS,
    PlacedClip,
    Scope,
    Tally,
    below_cited_share,
    coverage,
    coverage_error_frames,
    reuse,
)

_BUCKETS = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 8.0)
_CUT_NAMES = ("clean", "word", "mid_word")


@collector_paused()
def validate(script: EditingScript, dubbing: DubbingScript, dataset: Dataset,
             params: EditingServiceParams) -> EditingReport:
    """Check a finished editing script against its dubbing script and dataset."""
    scope = _scope(script, dataset, params)
    targets = segment_frames([s.duration_seconds for s in dubbing.dubbing_script], scope.clock)
    issues: list[ReportIssue] = []
    checks: list[SegmentCheck] = []
    tallies: list[Tally] = []
    placed: list[PlacedClip] = []
    for index, (segment, (_, target)) in enumerate(
            zip(script.editing_script, targets, strict=True)):
        clips, keys = _place(index, segment, scope)
        tally = _tally(clips)
        found = _segment_issues(index, segment, clips, keys, tally, target, scope)
        checks.append(_segment_check(index, segment, tally, target, found, scope))
        issues += found
        tallies.append(tally)
        placed += clips + keys
    reused = _reused_frames(placed)
    reused_twice = reuse(reused, scope)
    if reused_twice is not None:
        issues.append(reused_twice)
    footage = [p.clip for p in placed if p.footage]
    return EditingReport(
        fps=script.fps, ranking=script.ranking or "deterministic",
        min_clip_seconds=params.min_clip_seconds, max_clip_seconds=params.max_clip_seconds,
        min_cited_share=params.min_cited_share, segments=checks,
        max_coverage_error_frames=max((abs(c.coverage_error_frames) for c in checks),
                                      default=0.0),
        out_of_bounds_clips=_count(issues, "out_of_bounds"), reused_frames=reused,
        hold_segments=[c.index for c in checks if c.hold_frames],
        extended_segments=[c.index for c in checks if c.extended_frames],
        below_cited_share=sorted({i.segment for i in issues if i.kind == "below_cited_share"}),
        cited_share=_overall_cited_share(tallies),
        clip_lengths=_distribution([clip.duration for clip in footage]),
        cut_points=_cut_points(footage), issues=issues, ok=_ok(issues, params))


def _scope(script: EditingScript, dataset: Dataset, params: EditingServiceParams) -> Scope:
    extent: dict[int, tuple[int, int]] = {}
    for scene in dataset.scenes.values():
        low, high = extent.get(scene.chapter_id, (scene.start.ms, scene.end.ms))
        extent[scene.chapter_id] = (min(low, scene.start.ms), max(high, scene.end.ms))
    return Scope(script, dataset, params, FrameClock.at(script.fps), extent)


def _segment_issues(index: int, segment: EditingSegment, clips: list[PlacedClip],
                    keys: list[PlacedClip], tally: Tally, target: int, scope: Scope
                    ) -> list[ReportIssue]:
    """A segment's issues in report order: clip by clip, key lines, then the segment's."""
    found = [issue for p in clips for check in CLIP_CHECKS if (issue := check(p, scope))]
    found += [issue for p in keys for check in KEY_LINE_CHECKS if (issue := check(p, scope))]
    found += [issue for issue in (coverage(index, segment, tally, target, scope),
                                  below_cited_share(index, tally, scope)) if issue]
    return found


def _place(index: int, segment: EditingSegment, scope: Scope
           ) -> tuple[list[PlacedClip], list[PlacedClip]]:
    """The segment's clips and key lines with the source frames each reads."""
    clips = [PlacedClip.of(segment, index, c, clip, clip_source_range(clip, scope.clock.rate))
             for c, clip in enumerate(segment.b_roll_clips)]
    keys = [PlacedClip.of(segment, index, None, key, clip_source_range(key, scope.clock.rate))
            for key in segment.key_lines]
    return clips, keys


def _tally(clips: list[PlacedClip]) -> Tally:
    """Frames of the segment's clips (key lines play outside the narration: not counted)."""
    covered = cited = extended = held = 0
    for p in clips:
        frames = p.span.duration
        covered += frames
        if p.clip.freeze_frame:
            held += frames
        if p.footage:
            if p.cited:
                cited += frames
            else:
                extended += frames
    return Tally(covered=covered, cited=cited, extended=extended, held=held)


def _segment_check(index: int, segment: EditingSegment, tally: Tally, target: int,
                   issues: list[ReportIssue], scope: Scope) -> SegmentCheck:
    error_frames = coverage_error_frames(segment, tally, scope)
    return SegmentCheck(
        index=index, narration_seconds=segment.narration_duration, target_frames=target,
        covered_frames=tally.covered, coverage_error_frames=round(error_frames, 4),
        coverage_error_seconds=round(error_frames / scope.clock.frames_per_second, 6),
        clips=len(segment.b_roll_clips), cited_share=round(tally.cited_share, 4),
        extended_frames=tally.extended, hold_frames=tally.held,
        long_clips=_count(issues, "long_clip"), short_clips=_count(issues, "short_clip"),
        key_lines=len(segment.key_lines))


def _count(issues: list[ReportIssue], kind: str) -> int:
    return sum(1 for issue in issues if issue.kind == kind)


def _overall_cited_share(tallies: list[Tally]) -> float:
    cited = sum(t.cited for t in tallies)
    footage = sum(t.footage for t in tallies)
    return round(cited / footage, 4) if footage else 1.0


def _ok(issues: list[ReportIssue], params: EditingServiceParams) -> bool:
    """No broken guarantee: coverage, bounds, and reuse unless it is allowed."""
    failures = {"coverage", "out_of_bounds", "inconsistent"} | (
        set() if params.allow_reuse else {"reuse"})
    return not any(issue.kind in failures for issue in issues)


def _cut_points(footage: list[BRollClip]) -> dict[str, int]:
    cuts = dict.fromkeys(_CUT_NAMES, 0)
    for clip in footage:
        cuts[clip.cut_quality or "clean"] += 1
    return cuts


def _reused_frames(placed: list[PlacedClip]) -> int:
    """Source frames shown more than once: footage and key lines (a hold shows one frame,
    which may be shown again)."""
    shown: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for p in placed:
        if p.footage or p.clip_index is None:
            shown[p.clip.chapter_id].append((p.span.start, p.span.end))
    return sum(_overlapping(ranges) for ranges in shown.values())


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
    # How many lengths are at most each bound, bisected in the sorted lengths (a pass over
    # every clip per bucket cost more than the rest of the summary).
    at_most = [bisect_right(ordered, bound) for bound in (0.0, *_BUCKETS)]
    buckets = [LengthBucket(up_to_seconds=bound, clips=high - low)
               for bound, low, high in zip(_BUCKETS, at_most, at_most[1:], strict=False)]
    buckets.append(LengthBucket(up_to_seconds=None, clips=len(ordered) - at_most[-1]))
    return ClipLengths(
        clips=len(ordered), min_seconds=ordered[0], p10_seconds=round(deciles[0], 3),
        median_seconds=round(statistics.median(ordered), 3), p90_seconds=round(deciles[-1], 3),
        max_seconds=ordered[-1], mean_seconds=round(statistics.fmean(ordered), 3),
        histogram=buckets)
