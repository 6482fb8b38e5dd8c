"""Which file each clip and each narration comes from, and whether it can give what is asked
(pure: the runner lists the folders and probes the files)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from vss.domain.media_names import candidate_names, find_media
from vss.edge.render.plan import RenderError, Timeline

_MAX_LISTED = 12


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What ffprobe says about a file."""

    name: str
    duration: float
    width: int = 0
    height: int = 0
    fps: Fraction | None = None
    has_video: bool = True
    has_audio: bool = True


def clip_files(timeline: Timeline, available: set[str], media_dir: str) -> list[str]:
    """The media file name of each clip, in timeline order; RenderError naming every clip
    whose episode has no file (and the names looked for)."""
    names: list[str] = []
    problems: list[str] = []
    for clip in timeline.clips:
        found = find_media(clip.chapter_id, clip.source_file, available)
        if found is None:
            wanted = candidate_names(clip.chapter_id, clip.source_file)
            problems.append(f"{clip.label}: no media file for episode {clip.chapter_id} in "
                            f"{media_dir} (looked for {', '.join(wanted[:3])}, ...)")
        names.append(found or "")
    _raise(problems)
    return names


def narration_files(timeline: Timeline, available: set[str], audio_dir: str) -> list[str]:
    problems = [f"segment {cue.segment + 1}: its narration audio {cue.audio!r} is not in "
                f"{audio_dir}" for cue in timeline.cues if cue.audio not in available]
    _raise(problems)
    return [cue.audio for cue in timeline.cues]


def check_clips(timeline: Timeline, files: list[str], infos: dict[str, MediaInfo]) -> None:
    """RenderError naming each clip its file cannot give: no picture, or too short."""
    problems: list[str] = []
    half_frame = float(1 / timeline.fps) / 2
    for clip, name in zip(timeline.clips, files, strict=True):
        info = infos[name]
        if not info.has_video:
            problems.append(f"{clip.label}: {name} has no video stream")
            continue
        end = clip.source_in + clip.source_frames_needed
        if timeline.seconds(end) > info.duration + half_frame:
            problems.append(
                f"{clip.label} needs {timeline.timecode(clip.source_in)}-"
                f"{timeline.timecode(end)} of {name}, which is only "
                f"{info.duration:.3f} s long")
    _raise(problems)


def _raise(problems: list[str]) -> None:
    if problems:
        more = len(problems) - _MAX_LISTED
        raise RenderError(problems[:_MAX_LISTED] + ([f"and {more} more"] if more > 0 else []))
