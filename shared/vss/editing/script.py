"""The whole editing script: rank, reserve key lines, solve each segment, lay out the timeline.

`build_editing_script` is the pure core of GENERATE_EDITING_SCRIPT: it takes a validated
dubbing script, the dataset and the task's parameters (and, optionally, rankings a model made)
and returns the EditingScript the edge renders.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vss.domain.artifacts import (
    DeliveryFormat,
    DubbingScript,
    EditingScript,
    EditingSegment,
)
from vss.domain.dataset import Dataset
from vss.domain.media_names import media_stem
from vss.domain.payloads import EditingServiceParams
from vss.editing._collector import collector_paused
from vss.editing.audio import key_line, mode_of
from vss.editing.frames import FrameClock, segment_frames
from vss.editing.material import Candidate, CutQuality, SceneMaterial, dataset_material
from vss.editing.relevance import Relevance, Scored
from vss.editing.solver import ClipPlan, SegmentInput, SegmentPlan, Solver, SolverParams

_QUALITY_NAMES = {CutQuality.CLEAN: "clean", CutQuality.WORD: "word",
                  CutQuality.MID_WORD: "mid_word"}
_KIND_NAMES = {"dialogue": "a line", "dialogue_group": "an exchange of lines",
               "establishing": "the establishing shot", "action": "action without dialogue",
               "reaction": "a reaction after a line"}


@dataclass(frozen=True)
class Prepared:
    """What ranking needs before solving: the frame clock, each scene's material, the
    deterministic relevance model and each segment's cited candidates."""

    clock: FrameClock
    params: SolverParams
    material: dict[int, SceneMaterial]
    relevance: Relevance
    cited: list[list[Candidate]]


@collector_paused()
def prepare(dubbing: DubbingScript, dataset: Dataset, params: EditingServiceParams
            ) -> Prepared:
    clock = FrameClock.at(params.fps)
    solver_params = SolverParams(
        min_frames=max(1, math.ceil(params.min_clip_seconds * clock.rate - 1e-6)),
        max_frames=max(1, math.floor(params.max_clip_seconds * clock.rate + 1e-6)),
        allow_reuse=params.allow_reuse)
    material = dataset_material(dataset, clock, solver_params.max_frames)
    cited = [[c for scene_id in dict.fromkeys(segment.source_scene_ids)
              for c in material[scene_id].candidates]
             for segment in dubbing.dubbing_script]
    return Prepared(clock, solver_params, material, Relevance(dataset, material, clock), cited)


@collector_paused()
def deterministic_rankings(prepared: Prepared, dubbing: DubbingScript) -> list[list[Scored]]:
    return [prepared.relevance.rank(segment.narration, candidates)
            for segment, candidates in zip(dubbing.dubbing_script, prepared.cited, strict=True)]


@collector_paused()
def build_editing_script(
    dubbing: DubbingScript, dataset: Dataset, params: EditingServiceParams,
    prepared: Prepared, rankings: Sequence[Sequence[Scored]], ranking_name: str,
) -> tuple[EditingScript, list[SegmentPlan]]:
    clock = prepared.clock
    solver = Solver(prepared.material, prepared.params, prepared.relevance.rank)
    key_max = math.floor(params.audio.key_line_max_seconds * clock.rate + 1e-6)
    durations = [segment.duration_seconds for segment in dubbing.dubbing_script]
    plans: list[SegmentPlan] = []
    for index, (segment, (_, frames)) in enumerate(
            zip(dubbing.dubbing_script, segment_frames(durations, clock), strict=True)):
        scene_ids = tuple(dict.fromkeys(segment.source_scene_ids))
        reserved = key_line(segment.narration, scene_ids, prepared.material, key_max,
                            solver.used, params.allow_reuse) if params.audio.key_lines else None
        plans.append(solver.solve(
            SegmentInput(index, segment.narration, scene_ids, frames, tuple(rankings[index])),
            reserved))
    chapters = {chapter.id: chapter for chapter in dataset.chapters}
    segments: list[EditingSegment] = []
    cursor = 0
    for segment, plan in zip(dubbing.dubbing_script, plans, strict=True):
        start = cursor
        clips = []
        for clip in plan.clips:
            clips.append(_clip_fields(clip, cursor, clock,
                                      chapters[clip.chapter_id].source_file,
                                      prepared.material, params, ranking_name, plan))
            cursor += clip.frames
        keys = []
        if plan.key_line is not None:
            keys.append(_clip_fields(plan.key_line, cursor, clock,
                                     chapters[plan.key_line.chapter_id].source_file,
                                     prepared.material, params, ranking_name, plan))
            cursor += plan.key_line.frames
        # The segment validated with its clips' fields in one call: a model built per clip
        # cost half as much again (pydantic's per-call work, 60,000 times at 10,000 segments).
        segments.append(EditingSegment.model_validate({
            "narration": segment.narration, "narration_duration": segment.duration_seconds,
            # Verbatim: the edge matches it to the WAV it saved under the same basename.
            "narration_audio_path": segment.audio_file_path, "b_roll_clips": clips,
            "index": plan.index, "source_scene_ids": segment.source_scene_ids,
            "narration_frames": plan.frames, "timeline_start": clock.seconds(start),
            "timeline_start_frame": start, "key_lines": keys}))
    notes = [f"segment {plan.index}: {note}" for plan in plans for note in plan.notes]
    narration_seconds = round(math.fsum(durations), 3)
    script = EditingScript(
        editing_script=segments, fps=params.fps,
        # The seed's pair, kept for the edge: the narration's seconds and the video's frames.
        total_duration=narration_seconds, total_frames=cursor,
        narration_duration=narration_seconds, timeline_duration=clock.seconds(cursor),
        ranking=ranking_name, lang=params.lang.value if params.lang else None, notes=notes,
        delivery=delivery_format(params))
    return script, plans


def delivery_format(params: EditingServiceParams) -> DeliveryFormat:
    """The task's delivery format, its frame rate the episodes' unless it names one."""
    return params.delivery.model_copy(update={"fps": params.delivery.fps or params.fps})


def _clip_fields(clip: ClipPlan, at: int, clock: FrameClock, source_file: str | None,
                 material: Mapping[int, SceneMaterial], params: EditingServiceParams,
                 ranking: str, plan: SegmentPlan) -> dict[str, object]:
    """The fields of the clip's `BRollClip`: its segment validates them with its own."""
    mode, gain = mode_of(clip, material[clip.scene_id], params.audio)
    frames = clip.frames
    fields: dict[str, object] = {
        "scene_id": clip.scene_id, "chapter_id": clip.chapter_id, "source_file": source_file,
        "source_media": media_stem(clip.chapter_id, source_file),
        "start_time": clock.timecode(clip.start), "end_time": clock.timecode(clip.end),
        "duration": clock.seconds(frames), "frames": frames, "source_in_frame": clip.start,
        "timeline_start": clock.seconds(at), "timeline_start_frame": at, "kind": clip.kind,
        "origin": clip.origin, "audio_mode": mode, "cut_quality": _QUALITY_NAMES[clip.quality],
        "reason": _reason(clip, ranking, plan, clock)}
    # The model's defaults (no gain, no freeze, no relevance) are left to it: a model keeps
    # the set of the fields it was given, whose table quadruples past 18 names (2.3 KB a
    # clip instead of 0.7).
    if gain is not None:
        fields["source_gain_db"] = gain
    if clip.origin == "hold":
        fields["freeze_frame"] = True
    if clip.origin in ("cited", "extension"):
        fields["relevance"] = round(clip.score, 4)
    return fields


def _reason(clip: ClipPlan, ranking: str, plan: SegmentPlan, clock: FrameClock) -> str:
    what = _KIND_NAMES.get(clip.kind, clip.kind)
    shares = f"; shares {', '.join(clip.matches)}" if clip.matches else ""
    if clip.origin == "cited":
        return (f"{what} in cited scene {clip.scene_id}: relevance {clip.score:.2f}, "
                f"rank {clip.rank} of {clip.of} ({ranking}){shares}")
    if clip.origin == "extension":
        return (f"{what} in scene {clip.scene_id}, next to the cited scenes, whose unused "
                f"footage was shorter than the narration{shares}")
    if clip.origin == "key_line":
        quoted = re.sub(r"\s+", " ", clip.matches[0]) if clip.matches else ""
        return f"the narration quotes this line ({quoted}): original audio, narration paused"
    return (f"freeze-frame for {clock.seconds(clip.frames):.3f} s: no unused footage left "
            f"near the cited scenes of segment {plan.index}")
