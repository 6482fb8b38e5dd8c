"""Which media file in the media folder holds an episode: one rule for the cloud, which names
each clip's media in the timeline exports by it, and the edge, which finds the files by it.

The dataset names each chapter's `source_file`, but real datasets often name the subtitle file
the chapter was annotated from (`29_ep01_l1.ass`), not the video. So a chapter's media is, in
order: the file of exactly that basename when it is a video; a video of the same stem
(`29_ep01_l1.mp4`, `.mkv`, ...); then `ep{chapter:02d}` with a video extension (the only rule
when the chapter names no file). `vss demo-media` writes exactly `media_name(...)`, which these
rules find.
"""

from __future__ import annotations

from functools import cache
from pathlib import PurePath, PurePosixPath, PureWindowsPath

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".mov", ".m4v", ".webm", ".avi", ".ts", ".mxf")


def _basename(source_file: str) -> str:
    # Datasets are written on any system: strip both kinds of folder separators.
    return PureWindowsPath(PurePosixPath(source_file).name).name


def media_name(chapter_id: int, source_file: str | None) -> str:
    """The file name demo media is written under (an `.mp4`)."""
    if source_file and _basename(source_file).strip():
        return PurePath(_basename(source_file)).stem + ".mp4"
    return f"ep{chapter_id:02d}.mp4"


def media_reference(chapter_id: int, source_file: str | None) -> str:
    """The name the timeline exports give an episode's media: the first name the edge looks
    for (the episode's video under its own name, else its source's stem as an `.mp4`)."""
    return candidate_names(chapter_id, source_file)[0]


@cache
def media_stem(chapter_id: int, source_file: str | None) -> str:
    """The media's name without extension (`31_ep02_l1`, `ep02`): what every candidate shares
    but the extension."""
    return PurePath(media_reference(chapter_id, source_file)).stem


@cache  # a script has a few episodes and tens of thousands of clips naming them
def candidate_names(chapter_id: int, source_file: str | None) -> tuple[str, ...]:
    """Names to look for, best first."""
    names: list[str] = []
    if source_file and _basename(source_file).strip():
        base = PurePath(_basename(source_file))
        if base.suffix.lower() in VIDEO_EXTENSIONS:
            names.append(base.name)
        names += [base.stem + ext for ext in VIDEO_EXTENSIONS if base.stem + ext not in names]
    names += [f"ep{chapter_id:02d}{ext}" for ext in VIDEO_EXTENSIONS if f"ep{chapter_id:02d}{ext}"
              not in names]
    return tuple(names)


def find_media(chapter_id: int, source_file: str | None, available: set[str]) -> str | None:
    """The first candidate present in `available` (the media folder's file names)."""
    return next((n for n in candidate_names(chapter_id, source_file) if n in available), None)
