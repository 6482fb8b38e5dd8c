"""The editing script as timelines an editor opens: OpenTimelineIO, FCPXML (Final Cut Pro),
FCP 7 XML (Premiere, Resolve) and a CMX 3600 EDL.

One OTIO timeline is built and handed to each format's adapter, found through OTIO's plugin
registry (the adapters are written to be loaded by it, as `opentimelineio.adapters.<name>`):
- `V1`: the clips in order; a hold is its frame with a FreezeFrame effect; key lines follow
  their segment.
- `Narration`: each segment's WAV for the segment's frames, a gap while a key line plays.
- `Source audio`: the clips whose own sound is heard (ducked or original), their gain in the
  clip's metadata; a gap where the source is muted.
The FCP writers need an `available_range` on every media reference and a `global_start_time`
on the timeline. CMX 3600 holds one video track, so the EDL is `V1` alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import opentimelineio as otio

# The adapter distributions register themselves as OTIO plugins and are never imported by
# name; these imports (of empty packages) declare them, so packaging ships them with the
# function (scripts/package_functions.py follows imports).
import otio_cmx3600_adapter  # noqa: F401
import otio_fcp_adapter  # noqa: F401
import otio_fcpx_xml_adapter  # noqa: F401

from vss.domain.artifacts import BRollClip, EditingScript
from vss.domain.dataset import Dataset
from vss.domain.media_time import FrameRange, clip_source_range, frame_at_or_after, frame_rate
from vss.editing._collector import collector_paused

VIDEO_TRACK, NARRATION_TRACK, SOURCE_AUDIO_TRACK = "V1", "Narration", "Source audio"


@dataclass(frozen=True)
class ExportFile:
    format: str
    name: str  # artifact name under the task
    data: bytes
    content_type: str


def _rt(frames: int, fps: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(frames, fps)


def _range(start: int, frames: int, fps: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(_rt(start, fps), _rt(frames, fps))


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _episode_frames(dataset: Dataset, rate: Fraction) -> dict[int, int]:
    """Each episode's known length in frames: to the end of its last scene."""
    ends: dict[int, int] = {}
    for scene in dataset.scenes.values():
        end = frame_at_or_after(scene.end.ms, rate)
        ends[scene.chapter_id] = max(ends.get(scene.chapter_id, 0), end)
    return ends


def _clip_frames(clip: BRollClip, rate: Fraction) -> int:
    return clip_source_range(clip, rate).duration


def _media(clip: BRollClip, span: FrameRange, fps: float, episodes: dict[int, int]
           ) -> otio.schema.ExternalReference:
    length = max(episodes.get(clip.chapter_id, 0), span.end)
    return otio.schema.ExternalReference(
        target_url=clip.source_file or f"chapter_{clip.chapter_id}",
        available_range=_range(0, length, fps))


def _video_clip(clip: BRollClip, name: str, fps: float, rate: Fraction,
                episodes: dict[int, int]) -> otio.schema.Clip:
    span = clip_source_range(clip, rate)
    item = otio.schema.Clip(
        name=name, media_reference=_media(clip, span, fps, episodes),
        source_range=_range(span.start, span.duration, fps),
        metadata={"vss": {"scene_id": clip.scene_id, "chapter_id": clip.chapter_id,
                          "kind": clip.kind, "origin": clip.origin,
                          "audio_mode": clip.audio_mode, "source_gain_db": clip.source_gain_db,
                          "reason": clip.reason}})
    if clip.freeze_frame:
        item.effects.append(otio.schema.FreezeFrame())
    return item


def build_timeline(script: EditingScript, dataset: Dataset, name: str) -> otio.schema.Timeline:
    # Frame numbers follow the exact rate, as the renderer cuts them; OTIO keeps the script's
    # own fps as the rate it writes, as before.
    fps, rate = script.fps, frame_rate(script.fps)
    episodes = _episode_frames(dataset, rate)
    timeline = otio.schema.Timeline(name=name, global_start_time=_rt(0, fps))
    video = otio.schema.Track(name=VIDEO_TRACK, kind=otio.schema.TrackKind.Video)
    narration = otio.schema.Track(name=NARRATION_TRACK, kind=otio.schema.TrackKind.Audio)
    source = otio.schema.Track(name=SOURCE_AUDIO_TRACK, kind=otio.schema.TrackKind.Audio)
    for s, segment in enumerate(script.editing_script):
        frames = segment.narration_frames or sum(_clip_frames(c, rate)
                                                 for c in segment.b_roll_clips)
        audio_frames = max(frames, math.ceil(segment.narration_duration * fps - 1e-6))
        narration.append(otio.schema.Clip(
            name=_basename(segment.narration_audio_path),
            media_reference=otio.schema.ExternalReference(
                target_url=segment.narration_audio_path,
                available_range=_range(0, audio_frames, fps)),
            source_range=_range(0, frames, fps),
            metadata={"vss": {"segment": s, "narration": segment.narration}}))
        clips = [(f"seg{s:03d}_{c:02d} scene {clip.scene_id}", clip)
                 for c, clip in enumerate(segment.b_roll_clips)]
        clips += [(f"seg{s:03d}_key scene {clip.scene_id}", clip) for clip in segment.key_lines]
        for clip_name, clip in clips:
            video.append(_video_clip(clip, clip_name, fps, rate, episodes))
            heard = clip.audio_mode in ("ducked", "original") and not clip.freeze_frame
            if heard:
                source.append(_video_clip(clip, clip_name, fps, rate, episodes))
            else:
                gap = _clip_frames(clip, rate)
                source.append(otio.schema.Gap(source_range=_range(0, gap, fps)))
        keys = sum(_clip_frames(clip, rate) for clip in segment.key_lines)
        if keys:
            narration.append(otio.schema.Gap(source_range=_range(0, keys, fps)))
    timeline.tracks.extend([video, narration, source])
    return timeline


def _video_only(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    copy = timeline.deepcopy()
    for track in list(copy.tracks):
        if track.kind != otio.schema.TrackKind.Video:
            copy.tracks.remove(track)
    return copy


# format -> (OTIO adapter, artifact name, content type)
FORMATS = {
    "otio": ("otio_json", "editing/timeline.otio", "application/json"),
    "fcpxml": ("fcpx_xml", "editing/timeline.fcpxml", "application/xml"),
    "fcp7_xml": ("fcp_xml", "editing/timeline_fcp7.xml", "application/xml"),
    "edl": ("cmx_3600", "editing/timeline.edl", "text/plain"),
}


@collector_paused()
def export_files(script: EditingScript, dataset: Dataset, name: str) -> list[ExportFile]:
    timeline = build_timeline(script, dataset, name)
    files = []
    for fmt, (adapter, artifact, content_type) in FORMATS.items():
        if fmt == "edl":
            text = otio.adapters.write_to_string(_video_only(timeline), adapter,
                                                 rate=script.fps)
        else:
            text = otio.adapters.write_to_string(timeline, adapter)
        files.append(ExportFile(fmt, artifact, text.encode(), content_type))
    return files
