"""Check a rendered file: duration and streams with ffprobe, every cut against its source frames,
loudness with ebur128 (the maths is in `verify`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from vss.edge.render.ffmpeg import ebur128, stream_facts, thumbnails
from vss.edge.render.graph import OutputFormat, normalize_video
from vss.edge.render.plan import Clip, Timeline
from vss.edge.render.verify import (
    WINDOW,
    CutCheck,
    DurationCheck,
    LoudnessCheck,
    Thumb,
    duration_check,
    edges,
    locate,
    loudness_check,
)

THUMB_WIDTH = 96
WORKERS = 2


def thumb_size(fmt: OutputFormat) -> tuple[int, int]:
    return THUMB_WIDTH, max(2, round(THUMB_WIDTH * fmt.height / fmt.width / 2) * 2)


def check_duration(timeline: Timeline, out: Path) -> DurationCheck:
    facts = stream_facts(out)
    video, audio = facts.get("video", {}), facts.get("audio", {})
    return duration_check(timeline, int(video.get("nb_frames", 0)),
                          float(video.get("duration", 0.0)), float(audio.get("duration", 0.0)))


def check_loudness(out: Path) -> LoudnessCheck:
    return loudness_check(*ebur128(out))


def _wanted(timeline: Timeline, clip: Clip) -> list[int]:
    """Source frames around the clip's first frame and (unless frozen) its last."""
    last = clip.source_in + (0 if clip.freeze else clip.frames - 1)
    near = {*range(clip.source_in - WINDOW, clip.source_in + WINDOW + 1),
            *range(last - WINDOW, last + WINDOW + 1)}
    return sorted(f for f in near if f >= 0)


def _references(timeline: Timeline, clip: Clip, path: Path, fmt: OutputFormat,
                convert_fps: bool) -> dict[int, Thumb]:
    """Source frames picked by their own timestamps: seek a second early (with the original
    timestamps kept) and select each wanted frame's time slot, so the reference does not
    depend on the seek arithmetic the render used. A source at another rate is first put on
    the timeline's frame grid (its frame nearest each slot), as the render did."""
    wanted = _wanted(timeline, clip)
    fps = timeline.fps
    early = max(0, wanted[0] - round(fps))
    seek = timeline.seek_seconds(early)
    span = timeline.seconds(wanted[-1] + 2 - early)  # stop decoding past the last one
    slots = "+".join(f"between(t\\,{(f - 0.5) / fps:.6f}\\,{(f + 0.5) / fps:.6f})"
                     for f in wanted)
    frames = thumbnails(
        ["-copyts", "-ss", f"{seek:.6f}", "-t", f"{span:.6f}", "-i", str(path),
         "-fps_mode", "passthrough"],
        ("fps=" + fmt.rate + "," if convert_fps else "")
        + f"select='{slots}',{normalize_video(fmt)}", thumb_size(fmt))
    return {wanted[i]: thumb for i, thumb in frames.items() if i < len(wanted)}


def check_cuts(timeline: Timeline, out: Path, paths: list[Path], fmt: OutputFormat,
               convert_fps: list[bool] | None = None) -> list[CutCheck]:
    """Every clip edge: the output frame against the source frames around the expected one
    (`convert_fps`: per clip, whether its source runs at another rate than the timeline)."""
    found = edges(timeline)
    converts = convert_fps or [False] * len(timeline.clips)
    output = thumbnails(["-i", str(out)], "null", thumb_size(fmt), keep={e.at for e in found})
    with ThreadPoolExecutor(WORKERS) as pool:
        references = list(pool.map(lambda k: _references(timeline, timeline.clips[k],
                                                         paths[k], fmt, converts[k]),
                                   range(len(timeline.clips))))
    checks = []
    for edge in found:
        clip = timeline.clips[edge.clip]
        near = {f: t for f, t in references[edge.clip].items()
                if abs(f - edge.source) <= WINDOW}
        if edge.at in output:
            status, offset, difference = locate(output[edge.at], near, edge.source)
        else:  # the output has no such frame: the duration check says so too
            status, offset, difference = "off", 0, float("inf")
        checks.append(CutCheck(clip=edge.clip, label=clip.label, side=edge.side,
                               timeline_frame=edge.at, source_frame=edge.source, status=status,
                               offset=offset,
                               difference=round(difference, 3) if difference < 1e9 else None))
    return checks
