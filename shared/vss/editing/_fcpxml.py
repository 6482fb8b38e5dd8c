"""FCPXML 1.9 (Final Cut Pro) of a timeline, written by us over OpenTimelineIO's model.

Why not OTIO's `fcpx_xml` writer: for each clip it searches the whole document written so far
(its parent element, its asset, the asset's format), so 200 segments took 2.9 s, 1,000 more
than a minute, and the time grew with the square of the script; and it writes neither a frame
size, nor audio roles, nor levels, nor `media-rep`. This writer carries the record position
along (`vss.timeline_layout.placed_clips`), keeps its assets in a dict and builds the
document once, in the shape Final Cut writes itself (and OTIO's reader, `fcpx_xml`, reads
back into the same tracks; the shape is checked in tests/unit/editing/test_fcpxml_shape.py):

- `resources`: the sequence's `format` (the delivery's frame duration, width and height; the
  episodes' rate gets a format of its own when it differs), then one `asset` per media file,
  its file a `media-rep` (kind `original-media`): an episode has video and audio, a narration
  WAV audio only;
- `library` > `event` > `project` > `sequence` > `spine`, as Final Cut exports a project;
- the video track is the spine: one `asset-clip` per clip with its picture only
  (`srcEnable="video"`), its `offset` (record in), `start` (source in) and `duration` in exact
  rational seconds;
- each other track is a lane below it (-1, -2, ...): its clips are connected to the spine
  clip playing when they start, their `offset` in that clip's time; an episode's sound only
  (`srcEnable="audio"`), with the track's `audioRole` (`dialogue` for the narration, `source`
  for the episodes' sound) and the clip's level in the preview's mix as `adjust-volume`.

Freeze-frames are not written (a hold plays as footage from its frame), as before.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

import opentimelineio as otio

from vss.domain.media_time import frame_rate
from vss.timeline_layout import Placed, audio_role, basename, delivery_of, placed_clips

VERSION = "1.9"
SEQUENCE_FORMAT = "r1"
AUDIO_RATE = "48k"


def write_fcpxml(timeline: otio.schema.Timeline, fps: float) -> str:
    delivery = delivery_of(timeline, fps)
    rate, sequence_rate = frame_rate(fps), frame_rate(delivery.fps or fps)
    formats = [_format(SEQUENCE_FORMAT, sequence_rate, delivery.width, delivery.height)]
    media_format = SEQUENCE_FORMAT
    if rate != sequence_rate:  # the episodes' own rate, for their assets
        media_format = "r2"
        formats.append(_format(media_format, rate, delivery.width, delivery.height))
    writer = _Writer(rate, media_format, first_id=len(formats) + 1)
    videos = timeline.video_tracks()
    shown = list(placed_clips(videos[0], fps)) if videos else []
    parents = [writer.spine_clip(placed) for placed in shown]
    spine = ET.Element("spine")
    spine.extend(parents)
    others = [track for track in timeline.tracks if track.kind != otio.schema.TrackKind.Video]
    for lane, track in enumerate(others, start=1):
        writer.connect(list(placed_clips(track, fps)), shown, parents, -lane, audio_role(track))
    resources = ET.Element("resources")
    resources.extend([*formats, *writer.finished_assets()])
    sequence = ET.Element("sequence", format=SEQUENCE_FORMAT, tcStart="0s", tcFormat="NDF",
                          duration=writer.seconds(shown[-1].end if shown else 0),
                          audioLayout="stereo", audioRate=AUDIO_RATE)
    sequence.append(spine)
    project = ET.Element("project", name=timeline.name)
    project.append(sequence)
    event = ET.Element("event", name=timeline.name)
    event.append(project)
    library = ET.Element("library")
    library.append(event)
    root = ET.Element("fcpxml", version=VERSION)
    root.extend([resources, library])
    ET.indent(root, space="    ")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def _format(format_id: str, rate: Fraction, width: int, height: int) -> ET.Element:
    return ET.Element("format", id=format_id, name=f"FFVideoFormat{height}p{float(rate):g}",
                      frameDuration=_seconds(1 / rate), width=str(width), height=str(height))


def _seconds(value: Fraction) -> str:
    """FCPXML time: exact rational seconds (`3/25s`, `2s`)."""
    if value.denominator == 1:
        return f"{value.numerator}s"
    return f"{value.numerator}/{value.denominator}s"


def _decibels(gain: float) -> str:
    return f"{round(gain, 2):g}dB"


class _Writer:
    def __init__(self, rate: Fraction, media_format: str, first_id: int) -> None:
        self.rate, self.media_format, self.first_id = rate, media_format, first_id
        self.assets: dict[str, ET.Element] = {}  # media URL -> its asset
        self.lengths: dict[str, int] = {}  # media URL -> frames, the longest any clip needs

    def seconds(self, frames: int) -> str:
        return _seconds(Fraction(frames) / self.rate)

    def _clip(self, placed: Placed, ref: str, offset: int) -> ET.Element:
        return ET.Element("asset-clip", ref=ref, name=placed.clip.name,
                          offset=self.seconds(offset), start=self.seconds(placed.source_in),
                          duration=self.seconds(placed.frames), tcFormat="NDF")

    def spine_clip(self, placed: Placed) -> ET.Element:
        """The picture of an episode's clip (its sound, where heard, is on a lane)."""
        clip = self._clip(placed, self.asset(placed, has_video=True), placed.start)
        clip.set("srcEnable", "video")
        return clip

    def connect(self, clips: list[Placed], spine: list[Placed], parents: list[ET.Element],
                lane: int, role: str | None) -> None:
        """Attach each clip of a lane to the spine clip playing when it starts (both lists
        are in timeline order, so one pass over each); its offset is in that clip's time."""
        if not spine:
            return  # no clip on screen: the script is empty, and so is every other track
        parent = 0
        for placed in clips:
            while parent + 1 < len(spine) and spine[parent + 1].start <= placed.start:
                parent += 1
            host = spine[parent]
            local = host.source_in + placed.start - host.start
            ref = self.asset(placed, has_video=False)
            clip = self._clip(placed, ref, local)
            clip.set("lane", str(lane))
            if self.assets[placed.url].get("hasVideo") == "1":
                clip.set("srcEnable", "audio")
            if role:
                clip.set("audioRole", role)
            if placed.volume_db is not None:
                clip.append(ET.Element("adjust-volume", amount=_decibels(placed.volume_db)))
            parents[parent].append(clip)

    def asset(self, placed: Placed, has_video: bool) -> str:
        """The asset of the clip's media (made on its first clip: an episode's is made by its
        picture, on the spine, before any lane asks for its sound)."""
        url = placed.url
        known = self.assets.get(url)
        if known is None:
            known = self.assets[url] = ET.Element(
                "asset", id=f"r{len(self.assets) + self.first_id}", name=basename(url),
                start="0s", hasVideo="1" if has_video else "0", hasAudio="1",
                audioSources="1", audioChannels="2", audioRate=AUDIO_RATE)
            if has_video:
                known.set("format", self.media_format)
                known.set("videoSources", "1")
            known.append(ET.Element("media-rep", kind="original-media", src=url))
        self.lengths[url] = max(self.lengths.get(url, 0), placed.media_frames,
                                placed.source_in + placed.frames)
        return known.get("id", "")

    def finished_assets(self) -> list[ET.Element]:
        for url, asset in self.assets.items():
            asset.set("duration", self.seconds(self.lengths[url]))
        return list(self.assets.values())
