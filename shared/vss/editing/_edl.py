"""A CMX 3600 EDL of a timeline's video track, written by us over OpenTimelineIO's model.

Why not OTIO's `cmx_3600` writer: it asks OTIO for each clip's place on the timeline
(`transformed_time_range`), which walks the track from its start every time, so an EDL of
1,000 segments (about 6,000 events) took 13 s and its time grew with the square of the
script. This writer carries the record position along
(`vss.timeline_layout.placed_clips`) and writes the same lines that writer did, in the style
its reader reads back (`otio.adapters.read_from_string(text, "cmx_3600", rate=fps)`): one
event per clip, its name and file as `FROM CLIP` comments, and a freeze-frame as an `M2`
speed-0 line. CMX 3600 has no place for the narration track or a level, so each event says
how its source audio is heard in the preview's mix in a comment of its own
(`* SOURCE AUDIO: DUCKED -18 DB`), which readers skip.
"""

from __future__ import annotations

import re

import opentimelineio as otio

from vss.timeline_layout import Placed, basename, placed_clips

SOURCE_AUDIO_COMMENT = "* SOURCE AUDIO:"
REEL_CHARACTERS = 8  # CMX 3600 reel names are at most 8 characters
_EXTENSION = re.compile(r"[.][a-zA-Z]+$")
_NOT_IN_REEL = re.compile(r"[^ a-zA-Z0-9]+")


def write_edl(timeline: otio.schema.Timeline, fps: float) -> str:
    """The timeline's one video track as CMX 3600 text; `fps` is the EDL's timecode rate."""
    (video,) = timeline.video_tracks()
    events = [_event(number, clip, fps)
              for number, clip in enumerate(placed_clips(video, fps), start=1)]
    title = f"TITLE: {timeline.name}\n\n" if timeline.name else ""
    return title + "".join(f"{event}\n" for event in events)


def _event(number: int, placed: Placed, fps: float) -> str:
    url = placed.url.replace("\\", "/")
    source_out = placed.source_in + (1 if placed.frozen else placed.frames)
    times = " ".join(_timecode(frame, fps) for frame in (
        placed.source_in, source_out, placed.start, placed.end))
    lines = [f"{number:03d}  {_reel(url):{REEL_CHARACTERS}} V     C        {times}"]
    name = placed.clip.name
    if placed.frozen:
        lines.append(f"M2   {name}\t\t{0.0 * fps}\t\t\t{_timecode(placed.source_in, fps)}")
        lines += [f"* FROM CLIP NAME:  {name} FF", "* * FREEZE FRAME"]
    else:
        lines.append(f"* FROM CLIP NAME:  {name}")
    lines += [f"* FROM CLIP: {url}", f"* OTIO TRUNCATED REEL NAME FROM: {basename(url)}"]
    heard = _source_audio(placed)
    if heard:
        lines.append(f"{SOURCE_AUDIO_COMMENT} {heard}")
    return "\n".join(lines)


def _source_audio(placed: Placed) -> str | None:
    """How the clip's own sound is heard under the narration, from its metadata."""
    vss = placed.clip.metadata.get("vss") or {}
    mode = vss.get("audio_mode")
    if placed.frozen or mode == "narration_only":
        return "MUTED"
    if mode not in ("ducked", "original"):
        return None
    gain = vss.get("source_gain_db")
    level = f" {round(float(gain), 2):g} DB" if gain is not None else ""
    return f"{str(mode).upper()}{level}"


def _reel(url: str) -> str:
    """The media file's name without its extension, letters, digits and spaces only."""
    return _NOT_IN_REEL.sub("", _EXTENSION.sub("", basename(url)))[:REEL_CHARACTERS]


def _timecode(frame: int, fps: float) -> str:
    return str(otio.opentime.to_timecode(otio.opentime.RationalTime(frame, fps), fps))
