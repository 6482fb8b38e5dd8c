"""The editing stage's OTIO timeline (`timeline.otio`) read back into the renderer's `Timeline`,
so `vss render timeline.otio` renders the exported timeline itself (pure: text in, timeline
out; `sources.linked_clip_files` finds the files).

The timeline is read by the rules it was written by (`vss.timeline_layout`, shared with
`vss.editing.exports`), and laid out as `plan.build_timeline` lays out the editing script it
was exported from, so both render the same video:

| renderer field | read from |
|---|---|
| `fps` | the timeline's rate (its `global_start_time`, else its first clip's), made exact |
| clip `start`, `frames`, `source_in` | the picture track's clips, placed in whole frames |
| clip `freeze` | the clip's `FreezeFrame` effect |
| clip `segment`, `key_line`, `scene_id`, `chapter_id`, `source_file` | its `vss` metadata |
| clip `number` | its place among its segment's clips (b-roll, then key lines, as the script) |
| clip `audio_mode`, `gain_db` | the source-audio track (role `source`), see below |
| cue `start`, `audio` | the narration track (role `dialogue`): its clip's place, its WAV's name |
| cue `frames` | to the next cue's start (the last: the end), as the renderer lets narration sound |
| cue `text`, `duration` | the narration clip's `vss` metadata (`narration`, `narration_duration`) |

A picture clip whose own sound the source-audio track plays (its clip of the same frames of
the same episode) is heard at that clip's `Volume` effect's gain, ducked or original as its
metadata says; where the source-audio track has a gap (or there is no such track), the clip is
narration only.

Each clip's and each cue's media reference is kept beside the timeline, as the file it links
to (`vss export` writes absolute file URLs) or the name the cloud wrote (relative to the
exports' folder). What the renderer cannot play is refused by name: a second picture track,
a gap in the picture, a transition, a nested track, a source-audio clip that is not a picture
clip's own sound, a clip without the metadata the export writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import opentimelineio as otio

from vss.domain import media_time
from vss.edge.render.plan import (
    DEFAULT_DUCK_DB,
    AudioMode,
    Clip,
    Cue,
    RenderError,
    Timeline,
    frame_rate,
)
from vss.edge.render.sources import reference_name
from vss.timeline_layout import (
    NARRATION_ROLE,
    NARRATION_TRACK,
    SOURCE_AUDIO_TRACK,
    SOURCE_ROLE,
    Placed,
    audio_role,
    frame_count,
    placed_clips,
)

OTIO_SUFFIX = ".otio"
_CLIP_KEYS = ("segment", "key_line", "scene_id", "chapter_id")
_CUE_KEYS = ("segment", "narration", "narration_duration")
_MAX_LISTED = 12


@dataclass(frozen=True, slots=True)
class OtioTimeline:
    """The renderer's timeline of an OTIO file, and the media references it names: each clip's
    (its picture's) and each cue's, in the timeline's order."""

    timeline: Timeline
    clip_media: tuple[str, ...]
    cue_media: tuple[str, ...]


def is_otio(name: str) -> bool:
    return name.lower().endswith(OTIO_SUFFIX)


def read_timeline(text: str, *, duck_db: float = DEFAULT_DUCK_DB) -> OtioTimeline:
    """The timeline of an OTIO JSON document; RenderError naming each thing the renderer cannot
    play or that the file lacks. `duck_db`: the gain of a heard, ducked clip with no `Volume`
    effect (the export writes one on every heard clip)."""
    try:
        timeline = otio.adapters.read_from_string(text, "otio_json")
    except (ValueError, KeyError, TypeError) as exc:
        raise RenderError([f"not an OpenTimelineIO file: {' '.join(str(exc).split())}"]) from None
    if not isinstance(timeline, otio.schema.Timeline):
        what = timeline.schema_name() if isinstance(timeline, otio.core.SerializableObject) \
            else "no OTIO object"
        raise RenderError([f"the file holds no OTIO timeline ({what})"])
    return _Reader(timeline, duck_db).read()


def _vss(item: Any) -> dict[str, Any]:
    return dict(item.metadata.get("vss") or {})


def _audio_track(timeline: otio.schema.Timeline, role: str, name: str
                 ) -> otio.schema.Track | None:
    """The audio track of this role (the export names it too, for files that lost it)."""
    tracks = list(timeline.audio_tracks())
    return next((t for t in tracks if audio_role(t) == role), None) or \
        next((t for t in tracks if t.name == name and audio_role(t) is None), None)


class _Reader:
    def __init__(self, timeline: otio.schema.Timeline, duck_db: float) -> None:
        self.otio = timeline
        self.duck_db = duck_db
        self.problems: list[str] = []
        self.rate = self._rate()  # the rate the file counts frames in (a float, as written)
        self.fps = frame_rate(self.rate)  # the exact rate the renderer cuts at

    def _rate(self) -> float:
        start = self.otio.global_start_time
        if start is not None:
            return float(start.rate)
        for track in self.otio.tracks:
            for item in track:
                if getattr(item, "source_range", None) is not None:
                    return float(item.source_range.duration.rate)
        raise RenderError(["the OTIO timeline has no clip"])

    def read(self) -> OtioTimeline:
        videos = list(self.otio.video_tracks())
        if len(videos) != 1:
            raise RenderError([f"the OTIO timeline has {len(videos)} picture tracks; the "
                               "renderer renders one (the export's V1)"])
        narration = _audio_track(self.otio, NARRATION_ROLE, NARRATION_TRACK)
        if narration is None:
            raise RenderError([f"the OTIO timeline has no narration track (audio role "
                               f"{NARRATION_ROLE!r}, {NARRATION_TRACK!r})"])
        source = _audio_track(self.otio, SOURCE_ROLE, SOURCE_AUDIO_TRACK)
        for track in [videos[0], narration, *([source] if source is not None else [])]:
            self._plain(track)
        self._raise()
        pictures = self._pictures(videos[0])
        heard = self._heard(source, pictures) if source is not None else {}
        self._raise()
        clips, media, notes = self._clips(pictures, heard)
        cues, cue_media = self._cues(narration, clips, notes)
        self._raise()
        total = sum(clip.frames for clip in clips)
        if total == 0:
            raise RenderError(["the OTIO timeline has no clip of a frame or more"])
        return OtioTimeline(Timeline(self.fps, tuple(clips), tuple(cues), total, tuple(notes)),
                            tuple(media), tuple(cue_media))

    def _raise(self) -> None:
        if self.problems:
            more = len(self.problems) - _MAX_LISTED
            raise RenderError(self.problems[:_MAX_LISTED]
                              + ([f"and {more} more"] if more > 0 else []))

    def _plain(self, track: otio.schema.Track) -> None:
        """Clips and gaps only: what the export writes, and what the renderer plays."""
        for item in track:
            if not isinstance(item, otio.schema.Clip | otio.schema.Gap):
                self.problems.append(f"track {track.name!r}: {type(item).__name__} "
                                     f"{item.name!r} is not rendered (clips and gaps only)")
            elif isinstance(item, otio.schema.Clip) and \
                    not isinstance(item.media_reference, otio.schema.ExternalReference):
                self.problems.append(f"track {track.name!r}: clip {item.name!r} has no media "
                                     "file")

    def _placed(self, track: otio.schema.Track) -> Iterator[Placed]:
        return placed_clips(track, self.rate)

    def _pictures(self, video: otio.schema.Track) -> list[Placed]:
        """The picture clips in order; the picture has no hole (the renderer cuts its clips
        end to end)."""
        at = 0
        pictures = []
        for placed in self._placed(video):
            if placed.start != at:
                self.problems.append(f"track {video.name!r}: a gap of {placed.start - at} "
                                     f"frames before clip {placed.clip.name!r} (frame {at})")
            missing = [key for key in _CLIP_KEYS if key not in _vss(placed.clip)]
            if missing:
                self.problems.append(f"track {video.name!r}: clip {placed.clip.name!r} lacks "
                                     f"the export's metadata {', '.join(missing)}: export it "
                                     "again")
            pictures.append(placed)
            at = placed.end
        end = frame_count(video.duration(), self.rate)
        if end != at:
            self.problems.append(f"track {video.name!r}: a gap of {end - at} frames at its end")
        return pictures

    def _heard(self, source: otio.schema.Track, pictures: list[Placed]) -> dict[int, Placed]:
        """The source-audio clips by the picture clip (index) whose own sound each is."""
        by_start = {p.start: k for k, p in enumerate(pictures) if p.frames > 0}
        heard: dict[int, Placed] = {}
        for placed in self._placed(source):
            if placed.frames == 0:
                continue
            k = by_start.get(placed.start)
            picture = pictures[k] if k is not None else None
            same = picture is not None and (
                picture.frames, picture.source_in,
                _vss(picture.clip).get("chapter_id")) == (
                placed.frames, placed.source_in, _vss(placed.clip).get("chapter_id"))
            if k is None or not same:
                self.problems.append(
                    f"track {source.name!r}: clip {placed.clip.name!r} (frames {placed.start}-"
                    f"{placed.end}) is not the sound of the picture clip there: the renderer "
                    "plays each clip's own sound under it")
                continue
            heard[k] = placed
        return heard

    def _clips(self, pictures: list[Placed], heard: dict[int, Placed]
               ) -> tuple[list[Clip], list[str], list[str]]:
        clips: list[Clip] = []
        media: list[str] = []
        notes: list[str] = []
        numbers: dict[int, int] = {}
        last_segment = -1
        for k, placed in enumerate(pictures):
            meta = _vss(placed.clip)
            segment = int(meta["segment"])
            if segment < last_segment:
                self.problems.append(f"clip {placed.clip.name!r} of segment {segment + 1} comes "
                                     f"after segment {last_segment + 1}'s clips")
            last_segment = segment
            numbers[segment] = numbers.get(segment, 0) + 1
            mode, gain = self._sound(meta, heard.get(k))
            source_file = meta.get("source_file")
            clip = Clip(segment, numbers[segment], bool(meta["key_line"]), int(meta["scene_id"]),
                        int(meta["chapter_id"]), str(source_file) if source_file else None,
                        placed.source_in, placed.frames, placed.start, mode, gain,
                        placed.frozen)
            if clip.frames < 1:
                notes.append(f"{clip.label}: shorter than half a frame, left out")
                continue
            clips.append(clip)
            media.append(placed.url)
        return clips, media, notes

    def _sound(self, meta: dict[str, Any], sound: Placed | None
               ) -> tuple[AudioMode, float | None]:
        """How a clip's own sound is heard: as the source-audio track plays it."""
        if sound is None:
            return "narration_only", None
        written = meta.get("audio_mode")
        mode: AudioMode = cast(AudioMode, written) if written in ("ducked", "original") else (
            "original" if meta["key_line"] else "ducked")
        gain = sound.volume_db
        if gain is None:
            gain = self.duck_db if mode == "ducked" else 0.0
        return mode, gain

    def _cues(self, narration: otio.schema.Track, clips: list[Clip], notes: list[str]
              ) -> tuple[list[Cue], list[str]]:
        placed = list(self._placed(narration))
        for item in placed:
            missing = [key for key in _CUE_KEYS if key not in _vss(item.clip)]
            if missing:
                self.problems.append(f"track {narration.name!r}: clip {item.clip.name!r} lacks "
                                     f"the export's metadata {', '.join(missing)}: export it "
                                     "again")
        if self.problems:
            return [], []
        segments = [int(_vss(item.clip)["segment"]) for item in placed]
        if segments != list(range(len(placed))):
            self.problems.append(f"track {narration.name!r}: its clips are segments "
                                 f"{[s + 1 for s in segments]}, not each segment once, in order")
        unnarrated = sorted({clip.segment for clip in clips} - set(segments))
        if unnarrated:
            self.problems.append(f"segments {[s + 1 for s in unnarrated]} have clips but no "
                                 f"narration clip on track {narration.name!r}")
        total = sum(clip.frames for clip in clips)
        cues = []
        for n, item in enumerate(placed):
            meta = _vss(item.clip)
            following = placed[n + 1].start if n + 1 < len(placed) else total
            duration = float(meta["narration_duration"])
            spoken = media_time.nearest_frame(duration, self.fps)
            picture = sum(c.frames for c in clips if c.segment == n and not c.key_line)
            if abs(spoken - picture) > 1:
                notes.append(f"segment {n + 1}: its clips last {picture} frames, its narration "
                             f"{spoken} ({duration:.3f} s)")
            cues.append(Cue(n, str(meta["narration"]), reference_name(item.url), item.start,
                            following - item.start, spoken, duration))
        return cues, [item.url for item in placed]
