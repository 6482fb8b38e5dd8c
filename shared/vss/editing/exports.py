"""The editing script as timelines an editor opens: OpenTimelineIO, FCPXML (Final Cut Pro),
FCP 7 XML (Premiere, Resolve) and a CMX 3600 EDL.

One OTIO timeline is built; OTIO's own JSON adapter writes it as `.otio`, and our writers
(`_fcpxml`, `_fcp7_xml`, `_edl`) write the other three from the same timeline: OTIO's
writers for those formats grew with the square of the script (a 1,000-segment export took
minutes; each module says why). OTIO's readers read our files back to the same clips
(tests/unit/editing/test_editing_exports.py). The timeline's tracks:
- `V1`: the clips in order; a hold is its frame with a FreezeFrame effect; key lines follow
  their segment. Each clip's `vss` metadata: its segment and whether it is a key line, its
  scene, episode and source file, and the script's audio mode, gain and reason.
- `Narration` (audio role `dialogue`): each segment's WAV for the segment's frames, a gap
  while a key line plays; its metadata: the segment, its text and its WAV's duration in
  seconds (what the edge's renderer needs for the subtitles it burns in).
- `Source audio` (audio role `source`): the clips whose own sound is heard, ducked or
  original, each with a `Volume` effect of its gain (the preview's mix); a gap where the
  source is muted.
Media are named as the edge finds them, relative to the folder it downloads the exports to:
each episode by `vss.domain.media_names.media_reference` (`31_ep02_l1.mp4`, not the subtitle
file the dataset names), each narration by its WAV's basename (`narration_000.wav`); the edge
rewrites them to the files it found (`vss.edge.exports`). Every media reference has an
`available_range` (the FCP formats describe each file's length), the timeline a
`global_start_time` and its delivery format (`metadata["vss"]["delivery"]`: fps, width,
height), which every format writes as its sequence format. CMX 3600 holds one video track, so
the EDL is `V1` alone, each event's source audio as a comment. The tracks' names and roles and
the `Volume` effect are `vss.timeline_layout`'s, which the edge reads the timeline back by.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import opentimelineio as otio

from vss.domain.artifacts import BRollClip, DeliveryFormat, EditingScript
from vss.domain.dataset import Dataset
from vss.domain.media_names import media_reference
from vss.domain.media_time import FrameRange, clip_source_range, frame_at_or_after, frame_rate
from vss.domain.payloads import EditingAudioParams
from vss.editing._collector import collector_paused
from vss.editing._edl import write_edl
from vss.editing._fcp7_xml import write_fcp7_xml
from vss.editing._fcpxml import write_fcpxml
from vss.timeline_layout import (
    NARRATION_ROLE,
    NARRATION_TRACK,
    SOURCE_AUDIO_TRACK,
    SOURCE_ROLE,
    VIDEO_TRACK,
    volume_effect,
)


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


def _media(source_file: str | None, clip: BRollClip, span: FrameRange, fps: float,
           episodes: dict[int, int]) -> otio.schema.ExternalReference:
    length = max(episodes.get(clip.chapter_id, 0), span.end)
    return otio.schema.ExternalReference(
        target_url=media_reference(clip.chapter_id, source_file),
        available_range=_range(0, length, fps))


def _video_clip(clip: BRollClip, name: str, place: tuple[int, bool], fps: float,
                rate: Fraction, episodes: dict[int, int], sources: dict[int, str]
                ) -> otio.schema.Clip:
    """`place`: the clip's segment and whether it is one of its key lines."""
    span = clip_source_range(clip, rate)
    source_file = clip.source_file or sources.get(clip.chapter_id)
    segment, key_line = place
    item = otio.schema.Clip(
        name=name, media_reference=_media(source_file, clip, span, fps, episodes),
        source_range=_range(span.start, span.duration, fps),
        metadata={"vss": {"segment": segment, "key_line": key_line,
                          "scene_id": clip.scene_id, "chapter_id": clip.chapter_id,
                          "source_file": source_file, "source_media": clip.source_media,
                          "kind": clip.kind, "origin": clip.origin,
                          "audio_mode": clip.audio_mode, "source_gain_db": clip.source_gain_db,
                          "reason": clip.reason}})
    if clip.freeze_frame:
        item.effects.append(otio.schema.FreezeFrame())
    return item


def _delivery(script: EditingScript) -> DeliveryFormat:
    delivery = script.delivery or DeliveryFormat()
    return delivery.model_copy(update={"fps": delivery.fps or script.fps})


def build_timeline(script: EditingScript, dataset: Dataset, name: str) -> otio.schema.Timeline:
    # Frame numbers follow the exact rate, as the renderer cuts them; OTIO keeps the script's
    # own fps as the rate it writes, as before.
    fps, rate = script.fps, frame_rate(script.fps)
    episodes = _episode_frames(dataset, rate)
    sources = {c.id: c.source_file for c in dataset.chapters if c.source_file}
    timeline = otio.schema.Timeline(
        name=name, global_start_time=_rt(0, fps),
        metadata={"vss": {"delivery": _delivery(script).model_dump(mode="json")}})
    video = otio.schema.Track(name=VIDEO_TRACK, kind=otio.schema.TrackKind.Video)
    narration = otio.schema.Track(name=NARRATION_TRACK, kind=otio.schema.TrackKind.Audio,
                                  metadata={"vss": {"audio_role": NARRATION_ROLE}})
    source = otio.schema.Track(name=SOURCE_AUDIO_TRACK, kind=otio.schema.TrackKind.Audio,
                               metadata={"vss": {"audio_role": SOURCE_ROLE}})
    for s, segment in enumerate(script.editing_script):
        frames = segment.narration_frames or sum(_clip_frames(c, rate)
                                                 for c in segment.b_roll_clips)
        audio_frames = max(frames, math.ceil(segment.narration_duration * fps - 1e-6))
        wav = _basename(segment.narration_audio_path)
        narration.append(otio.schema.Clip(
            name=wav,
            # The WAV beside the export, where the edge downloads both.
            media_reference=otio.schema.ExternalReference(
                target_url=wav, available_range=_range(0, audio_frames, fps)),
            source_range=_range(0, frames, fps),
            # The text and the WAV's own length: the subtitles the renderer burns in.
            metadata={"vss": {"segment": s, "narration": segment.narration,
                              "narration_duration": segment.narration_duration}}))
        clips = [(f"seg{s:03d}_{c:02d} scene {clip.scene_id}", clip, (s, False))
                 for c, clip in enumerate(segment.b_roll_clips)]
        clips += [(f"seg{s:03d}_key scene {clip.scene_id}", clip, (s, True))
                  for clip in segment.key_lines]
        for clip_name, clip, place in clips:
            video.append(_video_clip(clip, clip_name, place, fps, rate, episodes, sources))
            heard = clip.audio_mode in ("ducked", "original") and not clip.freeze_frame
            if heard:
                sound = _video_clip(clip, clip_name, place, fps, rate, episodes, sources)
                sound.effects.append(volume_effect(_gain_db(clip)))
                source.append(sound)
            else:
                gap = _clip_frames(clip, rate)
                source.append(otio.schema.Gap(source_range=_range(0, gap, fps)))
        keys = sum(_clip_frames(clip, rate) for clip in segment.key_lines)
        if keys:
            narration.append(otio.schema.Gap(source_range=_range(0, keys, fps)))
    timeline.tracks.extend([video, narration, source])
    return timeline


def _gain_db(clip: BRollClip) -> float:
    """The source's gain as the renderer mixes it (`vss.edge.render.plan`): the clip's own, else
    the editing default of its mode."""
    if clip.source_gain_db is not None:
        return clip.source_gain_db
    return EditingAudioParams().duck_db if clip.audio_mode == "ducked" else 0.0


def _otio_json(timeline: otio.schema.Timeline, fps: float) -> str:
    return str(otio.adapters.write_to_string(timeline, "otio_json"))


Writer = Callable[[otio.schema.Timeline, float], str]  # (timeline, its fps) -> the file's text

# format -> (writer, artifact name, content type)
FORMATS: dict[str, tuple[Writer, str, str]] = {
    "otio": (_otio_json, "editing/timeline.otio", "application/json"),
    "fcpxml": (write_fcpxml, "editing/timeline.fcpxml", "application/xml"),
    "fcp7_xml": (write_fcp7_xml, "editing/timeline_fcp7.xml", "application/xml"),
    "edl": (write_edl, "editing/timeline.edl", "text/plain"),
}


@collector_paused()
def export_files(script: EditingScript, dataset: Dataset, name: str) -> list[ExportFile]:
    timeline = build_timeline(script, dataset, name)
    return [ExportFile(fmt, artifact, write(timeline, script.fps).encode(), content_type)
            for fmt, (write, artifact, content_type) in FORMATS.items()]
