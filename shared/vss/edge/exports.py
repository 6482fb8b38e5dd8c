"""The cloud's timeline exports linked to the files on this machine.

The editing stage names each clip's media as the edge finds it, relative to the folder the
exports are downloaded to: an episode by `vss.domain.media_names.media_reference`
(`31_ep02_l1.mp4`), a narration by its WAV's basename. An editor opening them from another
folder than the media's would get offline clips, so `vss render` (and `vss export`, `vss run
--media`) rewrites the four exports with absolute file URLs to the files found: the episodes
by the renderer's own lookup (`find_media` over the media folder, `vss.edge.render.sources`),
the narration WAVs by basename in the audio folder, as the renderer reads them.

The OTIO file says which clip is which (its clips' `vss` metadata names their episode and
source file); the URLs it maps are then replaced in the other three as they are written
(FCPXML `media-rep`/`src`, FCP 7 XML `pathurl`, the EDL's `FROM CLIP` comments), so the four
stay the same timeline. A reference without a file is kept as it was and listed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from vss.domain.media_names import candidate_names, find_media

OTIO_NAME, FCPXML_NAME, FCP7_NAME, EDL_NAME = (
    "timeline.otio", "timeline.fcpxml", "timeline_fcp7.xml", "timeline.edl")
EXPORT_NAMES = (OTIO_NAME, FCPXML_NAME, FCP7_NAME, EDL_NAME)
_FROM_CLIP = re.compile(r"^(\* FROM CLIP: )(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class MediaFolders:
    media: Path  # the episodes
    audio: Path  # the narration WAVs
    episode_files: dict[int, str] = field(default_factory=dict)  # chapter -> dataset file


@dataclass
class LinkedExports:
    written: list[Path] = field(default_factory=list)
    linked: dict[str, str] = field(default_factory=dict)  # reference as written -> file URL
    missing: list[str] = field(default_factory=list)  # one line per reference without a file


def file_url(path: Path) -> str:
    """An absolute `file://` URL, percent-encoded, as every NLE reads it."""
    return path.resolve().as_uri()


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file()} if folder.is_dir() else set()


def _clips(timeline: otio.schema.Timeline) -> Iterator[otio.schema.Clip]:
    for track in timeline.tracks:
        yield from track.find_clips()


def link_exports(exports_dir: Path, out_dir: Path, folders: MediaFolders) -> LinkedExports:
    """Write the exports found in `exports_dir` to `out_dir` with every media reference an
    absolute URL to the file found in `folders`; nothing when there is no OTIO export."""
    result = LinkedExports()
    source = exports_dir / OTIO_NAME
    if not source.is_file():
        return result
    timeline = otio.adapters.read_from_file(str(source), "otio_json")
    media, audio = _listing(folders.media), _listing(folders.audio)
    wanted: dict[str, list[str]] = {}  # reference -> the clips that need it, when not found
    looked_for: dict[str, str] = {}
    for clip in _clips(timeline):
        reference = clip.media_reference
        if not isinstance(reference, otio.schema.ExternalReference):
            continue
        url = str(reference.target_url)
        vss = clip.metadata.get("vss") or {}
        if "chapter_id" in vss:  # an episode's picture or sound
            chapter = int(vss["chapter_id"])
            source_file = vss.get("source_file") or folders.episode_files.get(chapter)
            found = find_media(chapter, source_file, media)
            path = folders.media / found if found else None
            looked_for[url] = (f"episode {chapter} in {folders.media} (looked for "
                               f"{', '.join(candidate_names(chapter, source_file)[:3])}, ...)")
        else:  # a narration WAV, by basename as the renderer reads it
            name = _basename(url)
            path = folders.audio / name if name in audio else None
            looked_for[url] = f"{name} in {folders.audio}"
        if path is None:
            wanted.setdefault(url, []).append(clip.name)
            continue
        result.linked[url] = reference.target_url = file_url(path)
    result.missing = [f"{len(clips)} clip(s) ({', '.join(clips[:3])}"
                      f"{', ...' if len(clips) > 3 else ''}) offline: no file for "
                      f"{looked_for[url]}" for url, clips in wanted.items()]
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / OTIO_NAME
    otio.adapters.write_to_file(timeline, str(target), "otio_json")
    result.written.append(target)
    for name, relink in ((FCPXML_NAME, _fcpxml), (FCP7_NAME, _fcp7_xml), (EDL_NAME, _edl)):
        path = exports_dir / name
        if path.is_file():
            text = relink(path.read_text(encoding="utf-8"), result.linked)
            (out_dir / name).write_text(text, encoding="utf-8")
            result.written.append(out_dir / name)
    return result


def _basename(url: str) -> str:
    return url.replace("\\", "/").rsplit("/", 1)[-1]


def _xml(root: ET.Element, doctype: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {doctype}>\n'
            + ET.tostring(root, encoding="unicode") + "\n")


def _fcpxml(text: str, urls: dict[str, str]) -> str:
    root = ET.fromstring(text)
    for element in root.iter():
        if element.tag in ("media-rep", "asset") and element.get("src") in urls:
            element.set("src", urls[element.get("src", "")])
    return _xml(root, "fcpxml")


def _fcp7_xml(text: str, urls: dict[str, str]) -> str:
    root = ET.fromstring(text)
    for element in root.iter("pathurl"):
        if element.text in urls:
            element.text = urls[element.text]
    return _xml(root, "xmeml")


def _edl(text: str, urls: dict[str, str]) -> str:
    return _FROM_CLIP.sub(lambda m: m.group(1) + urls.get(m.group(2), m.group(2)), text)
