"""Subtitle import: SRT, ASS/SSA and WebVTT episodes to a NarrativeDataset document.

For users without an annotated dataset: `import_subtitles` reads one subtitle file per episode
(pysubs2) and cuts its dialogue into scenes where the silence between lines is >= ``gap_seconds``,
returning a dict in the NarrativeDataset shape (DESIGN.md §5) that `parse_dataset` accepts.
- Episode order is the order of ``paths`` as given (no natural sort); scene ids run 1.. across.
- Times are relative to each episode's file. A scene spans its lines; the boundary between two
  scenes sits mid-silence, so an episode's scenes tile it from its first line to its last.
- Scenes shorter than ``min_scene_seconds`` join the previous one (a first one joins the next);
  then scenes longer than ``max_scene_seconds`` split at their largest internal gap until they fit
  or hold one line: the maximum holds, the minimum is best effort.
- Nothing is invented: the summary quotes the first and last lines; mood, location and dynamics
  stay null. Speaker: the ASS ``Name`` field, a WebVTT ``<v Name>`` tag or a leading ``Name:`` /
  ``名字：`` prefix, else null. Ids are uuid5s of the file names and contents (deterministic).
- Text is UTF-8 (BOM or not), UTF-16 with a BOM, else GB18030 (Chinese subtitles are often GBK).
"""

from __future__ import annotations

import hashlib
import html
import itertools
import os
import re
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import pysubs2

from vss.domain.language import ALL_PAUSE_MARKS, SURE_QUOTES, has_cjk, is_cjk, unquoted
from vss.domain.timecode import Timecode
from vss.errors import PayloadInvalid
from vss.narration.clean import clean_tts_text

__all__ = ["ANNOTATOR", "SUPPORTED_FORMATS", "import_subtitles"]

ANNOTATOR = "vss import-subtitles"
SUPPORTED_FORMATS = {"srt": "SRT", "ass": "ASS", "ssa": "SSA", "vtt": "WebVTT"}
_BY_EXTENSION = {".srt": "srt", ".ass": "ass", ".ssa": "ssa", ".vtt": "vtt"}
_PREFIX = re.compile(r"^(?P<name>[^\W\d_][\w .'’\-]{0,23}?)\s*[:：](?!//)\s*(?P<text>\S.*)$", re.S)
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+(?P<name>[^>]+)>")
_TAG = re.compile(r"<[^>]*>")
# "Show.S01E0" -> "Show", "EP0" -> "", "灯塔第" -> "灯塔", but "Mare0" -> "Mare"
_NUMBERING = re.compile(r"[\W\d_]*(?:(?<![^\W\d_])(?:s\d+)?e(?:p|pisode)?|第)?[\W\d_]*$", re.I)
_QUOTE_CHARS = 80


class _Line(NamedTuple):
    start: int  # ms from the start of the episode file
    end: int
    speaker: str | None
    content: str


def import_subtitles(
    paths: list[Path],
    *,
    gap_seconds: float = 4.0,
    min_scene_seconds: float = 8.0,
    max_scene_seconds: float = 180.0,
    title: str | None = None,
) -> dict[str, Any]:
    """Build a NarrativeDataset document from subtitle files, one chapter per file in order.

    Raise `PayloadInvalid` (details ``{"errors": [{"pointer": "/files/<i>", "reason"}]}``, every
    bad file listed) when a file cannot be read, decoded or parsed, is not SRT/ASS/SSA/WebVTT, or
    holds no dialogue; raise ValueError for nonsensical scene parameters.
    """
    if gap_seconds <= 0 or min_scene_seconds < 0 or max_scene_seconds <= 0:
        raise ValueError("gap and max scene length must be positive, min scene length >= 0")
    if not paths:
        raise _invalid([("/files", "no subtitle files given")])
    episodes, digest = _read_all(paths)
    project = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:vss:import-subtitles:{digest}")
    gap_ms, min_ms, max_ms = (round(s * 1000) for s in (gap_seconds, min_scene_seconds,
                                                         max_scene_seconds))
    chapters: dict[str, Any] = {}
    scenes: dict[str, Any] = {}
    for chapter_id, (path, lines) in enumerate(zip(paths, episodes, strict=True), start=1):
        groups = _split_long(_merge_short(_split_at_gaps(lines, gap_ms), min_ms), max_ms)
        first_id = len(scenes) + 1
        for scene_id, (group, span) in enumerate(zip(groups, _tile(groups), strict=True),
                                                 start=first_id):
            scenes[str(scene_id)] = _scene(project, chapter_id, scene_id, group, span)
        chapters[str(chapter_id)] = {
            "chapter_uuid": str(uuid.uuid5(project, f"chapter:{chapter_id}")),
            "local_id": chapter_id, "name": Path(path).stem, "source_file": Path(path).name,
            "scene_ids": list(range(first_id, len(scenes) + 1)),
        }
    name = title or _common_title([Path(p).stem for p in paths])
    files = ", ".join(Path(p).name for p in paths)
    nodes = [{"local_id": i, "narrative_index": i, "narrative_function": "LINEAR"}
             for i in range(1, len(scenes) + 1)]
    return {
        "asset_uuid": str(uuid.uuid5(project, "asset")),
        "project_uuid": str(project),
        "project_metadata": {
            "asset_name": name, "project_name": name, "version": "1.0", "annotator": ANNOTATOR,
            "description": f"Imported from {len(paths)} subtitle file(s): {files}. Scenes split "
                           f"at dialogue gaps of {gap_seconds:g} s or more; summaries quote lines.",
        },
        "chapters": chapters,
        "scenes": scenes,
        "narrative_storyline": {"root_branch_id": "main", "branches": {
            "main": {"branch_id": "main", "name": "Main storyline", "nodes": nodes}}},
    }


class _Unusable(Exception):
    """Not a usable subtitle file; the message says why."""


def _read_all(paths: list[Path]) -> tuple[list[list[_Line]], str]:
    """Every file's lines and a digest of the names and contents; PayloadInvalid listing all."""
    episodes: list[list[_Line]] = []
    issues: list[tuple[str, str]] = []
    digest = hashlib.sha256()
    for index, path in enumerate(map(Path, paths)):
        try:
            data = path.read_bytes()
            episodes.append(_read_lines(data, path.suffix.lower()))
            digest.update(f"{path.name}\t{hashlib.sha256(data).hexdigest()}\n".encode())
        except OSError as exc:
            issues.append((f"/files/{index}", f"cannot read {path}: {exc.strerror or exc}"))
        except _Unusable as exc:
            issues.append((f"/files/{index}", f"{path.name}: {exc}"))
    if issues:
        raise _invalid(issues)
    return episodes, digest.hexdigest()


def _read_lines(data: bytes, suffix: str) -> list[_Line]:
    text = _decode(data)
    try:
        fmt = pysubs2.formats.autodetect_format(text)
    except pysubs2.exceptions.FormatAutodetectionError:
        fmt = _BY_EXTENSION.get(suffix, "")
    if fmt not in SUPPORTED_FORMATS:
        found = f"format {fmt!r}" if fmt else "no known subtitle format"
        raise _Unusable(f"{found}; supported: SRT, ASS/SSA, WebVTT")
    vtt = fmt == "vtt"  # keep <v Name> voice tags for `_line`, which removes all tags
    try:
        source = _vtt_cues_only(text) if vtt else text
        subs = pysubs2.SSAFile.from_string(source, format_=fmt, keep_unknown_html_tags=vtt)
    except Exception as exc:  # a third-party parser on untrusted input: any failure is the file's
        raise _Unusable(f"cannot parse as {SUPPORTED_FORMATS[fmt]}: {exc}") from None
    lines: list[_Line] = []
    for event in sorted(subs.events, key=lambda e: (e.start, e.end)):
        if not event.is_text or event.end < event.start:
            continue
        line = _line(event, vtt=vtt)
        if line is not None and (not lines or lines[-1] != line):  # drop layered duplicates
            lines.append(line)
    if not lines:
        raise _Unusable("no dialogue events")
    return lines


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data:
        raise _Unusable("binary data, not a subtitle text file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _Unusable("text encoding is neither UTF-8 nor GB18030/GBK; re-save the file as UTF-8")


def _vtt_cues_only(text: str) -> str:
    """Drop NOTE/STYLE/REGION blocks and cue identifiers, which pysubs2 would read as text."""
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = [blocks[0]]
    for block in blocks[1:]:
        rows = block.strip("\n").split("\n")  # a cue from its timing row; other blocks go
        kept += ["\n".join(rows[i:]) for i, row in enumerate(rows) if "-->" in row][:1]
    return "\n\n".join(kept) + "\n"


def _line(event: pysubs2.SSAEvent, *, vtt: bool) -> _Line | None:
    raw = event.plaintext
    speaker = event.name.strip() or None
    if vtt:
        voice = _VOICE.search(raw)
        speaker = speaker or (voice["name"].strip() if voice else None)
        raw = html.unescape(_TAG.sub("", raw))
    # Cues for the hard of hearing ("（音乐）", "[laughs]", "♪") are not dialogue.
    content = clean_tts_text(_join_rows(raw.split("\n")))
    prefix = _PREFIX.match(content)
    if speaker is None and prefix and len(prefix["name"].split()) <= 3:
        speaker, content = prefix["name"].strip(), prefix["text"].strip()
    return _Line(event.start, event.end, speaker, content) if content else None


def _join_rows(rows: list[str]) -> str:
    """Join a cue's rows: no space between CJK text, one space otherwise."""
    text = ""
    for row in filter(None, (" ".join(r.split()) for r in rows)):
        text += row if not text or is_cjk(text[-1]) or is_cjk(row[0]) else f" {row}"
    return text


def _split_at_gaps(lines: list[_Line], gap_ms: int) -> list[list[_Line]]:
    groups: list[list[_Line]] = []
    last_end = -gap_ms  # so that the first line opens a scene
    for line in lines:
        if line.start - last_end >= gap_ms:
            groups.append([])
        groups[-1].append(line)
        last_end = max(last_end, line.end)
    return groups


def _span(group: list[_Line]) -> int:
    return max(line.end for line in group) - group[0].start


def _merge_short(groups: list[list[_Line]], min_ms: int) -> list[list[_Line]]:
    """Join a short scene to the previous one; a short first scene joins the next."""
    merged: list[list[_Line]] = []
    for group in groups:
        if merged and min(_span(merged[-1]), _span(group)) < min_ms:
            merged[-1] = merged[-1] + group
        else:
            merged.append(group)
    return merged


def _split_long(groups: list[list[_Line]], max_ms: int) -> list[list[_Line]]:
    result: list[list[_Line]] = []
    for group in groups:
        if len(group) < 2 or _span(group) <= max_ms:
            result.append(group)
            continue
        ends = list(itertools.accumulate((line.end for line in group), max))
        gaps = [(group[i].start - ends[i - 1], -i) for i in range(1, len(group))]
        cut = -max(gaps)[1]  # the largest gap; the earliest of equal ones
        result += _split_long([group[:cut], group[cut:]], max_ms)
    return result


def _tile(groups: list[list[_Line]]) -> list[tuple[int, int]]:
    """Scene spans: each from its first line to its last, boundaries mid-silence."""
    bounds = [(group[0].start, group[0].start + _span(group)) for group in groups]
    cuts = [end + (start - end) // 2 if start > end else start
            for (_, end), (start, _) in itertools.pairwise(bounds)]
    return list(zip([bounds[0][0], *cuts], [*cuts, bounds[-1][1]], strict=True))


def _scene(
    project: uuid.UUID, chapter_id: int, scene_id: int, group: list[_Line], span: tuple[int, int]
) -> dict[str, Any]:
    start, end = (str(Timecode(ms)) for ms in span)
    return {
        "scene_uuid": str(uuid.uuid5(project, f"scene:{chapter_id}:{start}-{end}")),
        "id": scene_id, "chapter_id": chapter_id, "start_time": start, "end_time": end,
        "scene_content_type": "Dialogue_Heavy",
        "dialogues": [
            {"speaker": line.speaker, "content": line.content,
             "start_time": str(Timecode(line.start)), "end_time": str(Timecode(line.end))}
            for line in group
        ],
        "captions": [], "highlights": [], "narrative_summary": _summary(group),
        "camera_movement": None, "inferred_location": None, "character_dynamics": None,
        "mood_and_atmosphere": None,
    }


def _summary(group: list[_Line]) -> str:
    """The scene's first and last lines, quoted and truncated: never more than was said."""
    chinese = any(has_cjk(line.content) for line in group)
    quoted = [_quote(line, chinese) for line in group[:: max(len(group) - 1, 1)]]  # first, last
    return ("……" if chinese else " … ").join(quoted)


def _quote(line: _Line, chinese: bool) -> str:
    text = unquoted(line.content, SURE_QUOTES)  # its own quote marks would double ours
    if len(text) > _QUOTE_CHARS:  # cut at a word where there are words
        text = text[: _QUOTE_CHARS - 1].rsplit(" ", 1)[0].rstrip(ALL_PAUSE_MARKS + " ") + "…"
    if chinese:
        return f"{line.speaker}说：“{text}”" if line.speaker else f"“{text}”"
    return f'{line.speaker} says, "{text}"' if line.speaker else f'"{text}"'


def _common_title(stems: list[str]) -> str:
    """One file's name; several files' common prefix less its episode numbering, if any."""
    if len(stems) == 1:
        return stems[0]
    prefix = _NUMBERING.sub("", os.path.commonprefix(stems)).strip()  # noqa: RUF071
    return prefix if len(prefix) >= 2 else "Imported subtitles"


def _invalid(issues: list[tuple[str, str]]) -> PayloadInvalid:
    more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
    return PayloadInvalid(
        f"invalid subtitles: {issues[0][0]}: {issues[0][1]}{more}",
        details={"errors": [{"pointer": p, "reason": r} for p, r in issues]},
    )
