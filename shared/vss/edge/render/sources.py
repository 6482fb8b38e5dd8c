"""Which file each clip and each narration comes from, and whether it can give what is asked
(pure: the runner lists the folders and probes the files)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from vss.domain.media_names import candidate_names, find_media
from vss.edge.render.plan import RenderError, Timeline
from vss.timeline_layout import basename

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


# The media an exported OTIO timeline names (`from_otio`): a file URL once the edge has linked
# it (`vss.edge.exports`), else the name the cloud gave it, relative to the exports' folder.


def local_path(reference: str) -> Path | None:
    """The file a reference links to (a `file:` URL, percent-decoded, or an absolute path);
    None for a name relative to the exports."""
    parsed = urlparse(reference)
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path))
    path = Path(reference)
    return path if not parsed.scheme and path.is_absolute() else None


def reference_name(reference: str) -> str:
    """The file name a reference ends in (as a narration's WAV is looked for)."""
    local = local_path(reference)
    return local.name if local is not None else basename(reference)


def linked_clip_files(timeline: Timeline, references: Sequence[str], linked: set[Path],
                      available: set[str], media_dir: Path | None) -> list[Path]:
    """Each clip's file: the one its reference links to when it is among `linked` (the linked
    files that exist), else its episode's in the media folder, found as `clip_files` finds it;
    RenderError naming every clip without one."""
    paths: list[Path] = []
    problems: list[str] = []
    for clip, reference in zip(timeline.clips, references, strict=True):
        local = local_path(reference)
        found = find_media(clip.chapter_id, clip.source_file, available)
        if local is not None and local in linked:
            paths.append(local)
        elif media_dir is not None and found is not None:
            paths.append(media_dir / found)
        else:
            wanted = candidate_names(clip.chapter_id, clip.source_file)
            where = (f"no media file for episode {clip.chapter_id} in {media_dir} (looked for "
                     f"{', '.join(wanted[:3])}, ...)" if media_dir is not None else
                     f"no media folder to look for episode {clip.chapter_id} in")
            problems.append(f"{clip.label}: {reference} is not a file here, and {where}"
                            if local is not None else f"{clip.label}: {where}")
            paths.append(Path())
    _raise(problems)
    return paths


def linked_narration_files(timeline: Timeline, references: Sequence[str], linked: set[Path],
                           available: set[str], audio_dir: Path) -> list[Path]:
    """Each cue's WAV: the one its reference links to when it is among `linked`, else its
    name in the audio folder, as `narration_files` finds it."""
    paths: list[Path] = []
    problems: list[str] = []
    for cue, reference in zip(timeline.cues, references, strict=True):
        local = local_path(reference)
        if local is not None and local in linked:
            paths.append(local)
        elif cue.audio in available:
            paths.append(audio_dir / cue.audio)
        else:
            problems.append(f"segment {cue.segment + 1}: its narration audio {reference!r} is "
                            f"not a file here, nor {cue.audio!r} in {audio_dir}"
                            if local is not None else f"segment {cue.segment + 1}: its "
                            f"narration audio {cue.audio!r} is not in {audio_dir}")
    _raise(problems)
    return paths
