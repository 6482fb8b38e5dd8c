"""GENERATE_EDITING_SCRIPT: source clips under each narration segment, frame-aligned.

Clips are taken in story order from the segment's source scenes, each from the scene's start,
until the narration is covered; when the scenes are shorter than the narration, the scenes that
follow in the story fill the rest. A scene is never used twice.
"""

from __future__ import annotations

import math

from vss.domain.artifacts import BRollClip, DubbingScript, EditingScript, EditingSegment
from vss.domain.dataset import Dataset, Scene
from vss.domain.payloads import GenerateEditingPayload
from vss.domain.results import EditingResult
from vss.domain.timecode import Timecode
from vss.engines._io import read_dataset, read_model, write_json
from vss.errors import PayloadInvalid
from vss.stage_handler import StageContext, StageOutput


def _frames(seconds: float, fps: float) -> int:
    return round(seconds * fps)


def _frame_span(scene: Scene, fps: float) -> tuple[int, int]:
    """First and last-exclusive frame wholly inside the scene, so no clip leaves it."""
    return math.ceil(scene.start.seconds * fps - 1e-9), math.floor(scene.end.seconds * fps + 1e-9)


def clips_for(
    duration: float, scenes: list[Scene], spare: list[Scene], used: set[int], dataset: Dataset,
    fps: float,
) -> list[BRollClip]:
    needed = _frames(duration, fps)
    clips: list[BRollClip] = []
    for scene in [*scenes, *spare]:
        if needed <= 0:
            break
        if scene.id in used:
            continue
        first, last = _frame_span(scene, fps)
        take = min(needed, last - first)
        if take <= 0:
            continue
        used.add(scene.id)
        needed -= take
        start_ms = math.ceil(first * 1000 / fps)
        end_ms = math.ceil((first + take) * 1000 / fps)
        chapter = dataset.chapter_of(scene.id)
        clips.append(BRollClip(
            scene_id=scene.id, chapter_id=scene.chapter_id,
            source_file=chapter.source_file if chapter else None,
            start_time=Timecode(ms=start_ms).format(), end_time=Timecode(ms=end_ms).format(),
            duration=round(take / fps, 6), frames=take,
        ))
    return clips


def run(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(GenerateEditingPayload)
    fps = payload.service_params.fps
    dubbing = read_model(ctx.files, payload.input_dubbing_path, DubbingScript)
    dataset = read_dataset(ctx.files, payload.blueprint_path)
    story = dataset.scenes_in_story_order()
    used: set[int] = set()
    segments = []
    for index, segment in enumerate(dubbing.dubbing_script):
        unknown = [i for i in segment.source_scene_ids if i not in dataset.scenes]
        if unknown:
            raise PayloadInvalid(
                "The dubbing script names scenes the dataset does not have.",
                details={"errors": [{"pointer": f"/dubbing_script/{index}/source_scene_ids",
                                     "reason": f"unknown scene ids {unknown}"}]},
            )
        own = sorted((dataset.scenes[i] for i in segment.source_scene_ids),
                     key=story.index)
        after = story[story.index(own[-1]) + 1:]
        segments.append(EditingSegment(
            narration=segment.narration, narration_duration=segment.duration_seconds,
            narration_audio_path=segment.audio_file_path,
            b_roll_clips=clips_for(segment.duration_seconds, own, after, used, dataset, fps),
        ))
    script = EditingScript(
        editing_script=segments, fps=fps,
        total_duration=round(sum(s.narration_duration for s in segments), 3),
    )
    path = write_json(ctx.files, "editing_script.json", script)
    return StageOutput(result=EditingResult(output_file_path=path, segments=len(segments)))
