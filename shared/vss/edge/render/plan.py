"""An editing script laid out on a timeline of whole frames (pure: no file, no process).

The timeline is what the edge has always done with an editing script, made exact: segments one
after another, each segment's `b_roll_clips` end to end under its narration, then its
`key_lines` (original audio, narration paused). Every position is an integer frame at the
script's `fps`, and every audio position the sample that frame starts on, so nothing drifts
however long the timeline is.

Fields read when present (the editing stage writes them) and what is assumed without them (the
first two by `vss.domain.media_time.clip_source_range`, the rule the report and exports share):

| field | absent |
|---|---|
| `source_in_frame` | the first frame at or after `start_time` |
| `frames` | `duration` x fps, rounded half up |
| `audio_mode` | `ducked` (the source under the narration); `original` for a key line |
| `source_gain_db` | `--duck-db` (-18 dB, the editing stage's default) if ducked; 0 dB if original |
| `freeze_frame` | false; a frozen clip is always narration only |
| `source_file` | the episode's file from `--dataset`, else `ep{chapter_id:02d}.*` |
| `key_lines` | none |
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, cast

from pydantic import BaseModel, ValidationError

from vss.domain import media_time
from vss.domain.artifacts import BRollClip, EditingScript
from vss.domain.pointers import pointer
from vss.domain.timecode import Timecode
from vss.edge.errors import EdgeError

AudioMode = Literal["narration_only", "ducked", "original"]
AUDIO_MODES: tuple[AudioMode, ...] = ("narration_only", "ducked", "original")
DEFAULT_DUCK_DB = -18.0
SAMPLE_RATE = 48_000


class RenderError(EdgeError):
    """What stops a render, one line per problem: the user can fix each of them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def frame_rate(fps: float) -> Fraction:
    """The exact rate behind a float: 29.97 is 30000/1001, as NTSC footage really runs."""
    try:
        return media_time.frame_rate(fps)
    except ValueError as exc:
        raise RenderError([str(exc)]) from None


@dataclass(frozen=True, slots=True)
class Clip:
    """One source clip on the timeline; frames count at the timeline's rate."""

    segment: int
    number: int
    key_line: bool
    scene_id: int
    chapter_id: int
    source_file: str | None
    source_in: int
    frames: int
    start: int
    audio_mode: AudioMode
    gain_db: float | None
    freeze: bool

    @property
    def end(self) -> int:
        return self.start + self.frames

    @property
    def label(self) -> str:
        what = "key line" if self.key_line else "clip"
        return (f"segment {self.segment + 1} {what} {self.number} "
                f"(scene {self.scene_id}, episode {self.chapter_id})")

    @property
    def source_frames_needed(self) -> int:
        """Frames of the source it reads: a freeze-frame holds its first one."""
        return 1 if self.freeze else self.frames


@dataclass(frozen=True, slots=True)
class Cue:
    """One segment's narration: it starts with the segment's first clip and may sound until
    the next segment starts (`frames`), after which it is cut."""

    segment: int
    text: str
    audio: str
    start: int
    frames: int
    narration_frames: int
    duration: float


@dataclass(frozen=True, slots=True)
class Timeline:
    fps: Fraction
    clips: tuple[Clip, ...]
    cues: tuple[Cue, ...]
    total_frames: int
    notes: tuple[str, ...] = ()

    def seconds(self, frame: int) -> float:
        return media_time.frame_seconds(frame, self.fps)

    def sample(self, frame: int) -> int:
        """The audio sample a frame starts on (rounded, so cumulative positions never drift)."""
        return round(frame * SAMPLE_RATE / self.fps)

    def seek_seconds(self, frame: int) -> float:
        """Where `ffmpeg -ss` keeps exactly this frame and drops the one before: its start,
        rounded down to the microsecond ffmpeg parses."""
        return math.floor(frame * 1_000_000 / self.fps) / 1_000_000

    def timecode(self, frame: int) -> str:
        return Timecode(ms=media_time.frame_ms(frame, self.fps)).format()

    @property
    def duration(self) -> float:
        return self.seconds(self.total_frames)


def _extra(model: BaseModel, name: str) -> Any:
    """A field the editing stage adds (typed once that model is merged, an extra until then)."""
    return getattr(model, name, None)


def load_script(data: bytes | str) -> EditingScript:
    try:
        return EditingScript.model_validate_json(data)
    except ValidationError as exc:
        problems = [f"{err['msg']} ({pointer(err['loc'])})" for err in exc.errors()[:10]]
        raise RenderError([f"the editing script is not valid: {p}" for p in problems]) from None


def build_timeline(script: EditingScript, *, duck_db: float = DEFAULT_DUCK_DB,
                   episode_files: dict[int, str] | None = None) -> Timeline:
    """Lay the script out; `episode_files` maps chapter ids to their `source_file` (from the
    dataset) for clips that do not name their own."""
    fps = frame_rate(script.fps)
    problems: list[str] = []
    notes: list[str] = []
    clips: list[Clip] = []
    cue_starts: list[tuple[int, int]] = []
    cursor = 0
    for s, segment in enumerate(script.editing_script):
        seg_start = cursor
        number = 0
        raw_keys = _extra(segment, "key_lines") or []
        groups = [(False, segment.b_roll_clips, "b_roll_clips"),
                  (True, [_as_clip(k) for k in raw_keys], "key_lines")]
        for key_line, items, field in groups:
            for c, item in enumerate(items):
                where = f"/editing_script/{s}/{field}/{c}"
                number += 1
                clip = _clip(item, s, number, key_line, cursor, fps, duck_db,
                             episode_files or {}, where, problems)
                if clip is None:
                    continue
                if clip.frames < 1:
                    notes.append(f"{clip.label}: shorter than half a frame, left out")
                    continue
                given = _extra(item, "timeline_start_frame")
                if isinstance(given, int) and given != cursor:
                    notes.append(f"{clip.label}: the script places it at frame {given}, "
                                 f"its clips before it end at frame {cursor}")
                clips.append(clip)
                cursor += clip.frames
            if not key_line:
                cue_starts.append((seg_start, cursor - seg_start))
    if problems:
        raise RenderError(problems)
    cues = []
    for s, (segment, (start, picture)) in enumerate(
            zip(script.editing_script, cue_starts, strict=True)):
        following = cue_starts[s + 1][0] if s + 1 < len(cue_starts) else cursor
        narration = media_time.nearest_frame(segment.narration_duration, fps)
        if abs(narration - picture) > 1:
            notes.append(f"segment {s + 1}: its clips last {picture} frames, its narration "
                         f"{narration} ({segment.narration_duration:.3f} s)")
        cues.append(Cue(s, segment.narration, _basename(segment.narration_audio_path), start,
                        following - start, narration, segment.narration_duration))
    total = _extra(script, "total_frames")
    if isinstance(total, int) and total != cursor:
        notes.append(f"the script says {total} frames, its clips add up to {cursor}")
    if cursor == 0:
        raise RenderError(["the editing script has no clip of a frame or more"])
    return Timeline(fps, tuple(clips), tuple(cues), cursor, tuple(notes))


def _as_clip(raw: Any) -> BRollClip:
    return raw if isinstance(raw, BRollClip) else BRollClip.model_validate(raw)


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _clip(item: BRollClip, segment: int, number: int, key_line: bool, start: int, fps: Fraction,
          duck_db: float, episode_files: dict[int, str], where: str,
          problems: list[str]) -> Clip | None:
    try:
        span = media_time.clip_source_range(item, fps)
    except ValueError as exc:
        problems.append(f"{exc} ({where}/start_time)")
        return None
    freeze = bool(_extra(item, "freeze_frame"))
    raw_mode = _extra(item, "audio_mode") or ("original" if key_line else "ducked")
    if raw_mode not in AUDIO_MODES:
        problems.append(f"unknown audio_mode {raw_mode!r} ({where}/audio_mode)")
        return None
    mode = cast(AudioMode, raw_mode)
    if freeze:
        mode = "narration_only"
    gain = _extra(item, "source_gain_db")
    if mode == "narration_only":
        gain = None
    elif not isinstance(gain, int | float):
        gain = duck_db if mode == "ducked" else 0.0
    return Clip(segment, number, key_line, item.scene_id, item.chapter_id,
                item.source_file or episode_files.get(item.chapter_id), span.start,
                span.duration, start, mode, None if gain is None else float(gain), freeze)
