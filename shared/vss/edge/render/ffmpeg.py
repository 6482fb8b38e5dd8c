"""FFmpeg and ffprobe as subprocesses: probing, running a command with a progress bar,
loudness measurements and frame thumbnails. Everything that shells out lives here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vss.edge.errors import EdgeError
from vss.edge.render.sources import MediaInfo
from vss.edge.render.verify import Thumb

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
_TAIL = 12  # lines of FFmpeg's stderr quoted when it fails


class FfmpegError(EdgeError):
    """FFmpeg (or ffprobe) failed: what it was doing, and the end of what it said."""


def require_tools() -> None:
    missing = [tool for tool in (FFMPEG, FFPROBE) if shutil.which(tool) is None]
    if missing:
        raise FfmpegError(f"{' and '.join(missing)} not found on PATH (Debian: apt-get install "
                          "ffmpeg)")


def _rate(text: str | None) -> Fraction | None:
    if not text or "/" not in text:
        return None
    num, den = text.split("/", 1)
    return Fraction(int(num), int(den)) if int(den) and int(num) else None


def probe(path: Path) -> MediaInfo:
    """Duration (the longest of the container's and its streams'), size, rate, streams."""
    run = subprocess.run(
        [FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(path)], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise FfmpegError(f"ffprobe cannot read {path}: {_last_line(run.stderr)}")
    data = json.loads(run.stdout)
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not s.get("disposition", {}).get("attached_pic")), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    durations = [float(x) for x in [data.get("format", {}).get("duration"),
                                    *(s.get("duration") for s in (video, audio) if s)] if x]
    # A stream's own duration is what can be read from it; the container's may be longer.
    own = float(video["duration"]) if video and video.get("duration") else None
    return MediaInfo(
        name=path.name, duration=own if own is not None else max(durations, default=0.0),
        width=int(video.get("width", 0)) if video else 0,
        height=int(video.get("height", 0)) if video else 0,
        fps=_rate(video.get("r_frame_rate")) if video else None,
        has_video=video is not None, has_audio=audio is not None)


def stream_facts(path: Path) -> dict[str, Any]:
    """The output's streams as ffprobe reports them (frame counts from the container)."""
    run = subprocess.run(
        [FFPROBE, "-v", "error", "-print_format", "json", "-show_streams", str(path)],
        capture_output=True, text=True, check=True)
    streams = json.loads(run.stdout)["streams"]
    return {s["codec_type"]: s for s in streams if s.get("codec_type") in ("video", "audio")}


def run_ffmpeg(args: list[str], *, what: str, seconds: float,
               advance: Callable[[float], None] | None = None) -> str:
    """Run `ffmpeg ARGS`, reporting progress in seconds of output to `advance`; returns its
    stderr (where loudnorm prints its measurements). FfmpegError with the end of it on
    failure."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as err:
        process = subprocess.Popen(
            [FFMPEG, "-hide_banner", "-nostdin", "-y", "-nostats", "-progress", "pipe:1",
             *args], stdout=subprocess.PIPE, stderr=err, text=True)
        assert process.stdout is not None
        for line in process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and advance is not None and value.lstrip("-").isdigit():
                advance(min(seconds, max(0.0, int(value) / 1e6)))
        code = process.wait()
        err.seek(0)
        text = err.read()
    if code != 0:
        tail = " | ".join(line.strip() for line in text.splitlines()[-_TAIL:] if line.strip())
        raise FfmpegError(f"ffmpeg failed while {what} (exit {code}): {tail}")
    return text


def loudnorm_measurement(stderr: str) -> dict[str, str]:
    """The JSON block `loudnorm=print_format=json` prints last."""
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr)
    if match is None:
        raise FfmpegError("loudnorm printed no measurement")
    values: dict[str, str] = json.loads(match.group(0))
    # Silence measures -inf; loudnorm accepts measured values down to -99.
    return {k: ("-99" if v in ("-inf", "inf") else v) for k, v in values.items()}


def ebur128(path: Path) -> tuple[float, float, float | None]:
    """(integrated LUFS, true peak dBTP, loudness range LU) of a file's audio (BS.1770)."""
    run = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostats", "-nostdin", "-i", str(path), "-map", "0:a:0",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=False)
    summary = run.stderr.rsplit("Summary:", 1)[-1]
    found = {key: re.search(rf"{key}:\s+(-?[\d.]+|-inf)", summary) for key in ("I", "LRA",
                                                                                "Peak")}
    if run.returncode != 0 or found["I"] is None or found["Peak"] is None:
        raise FfmpegError(f"cannot measure the loudness of {path}: {_last_line(run.stderr)}")
    lra = found["LRA"]
    return (float(found["I"].group(1)), float(found["Peak"].group(1)),
            float(lra.group(1)) if lra else None)


def thumbnails(input_args: list[str], video_filter: str, size: tuple[int, int],
               keep: Iterable[int] | None = None, limit: int | None = None) -> dict[int, Thumb]:
    """Greyscale thumbnails of the frames a decode yields, by their index in it (all of
    them, or those in `keep`)."""
    width, height = size
    args = [FFMPEG, "-v", "error", "-nostdin", *input_args, "-vf",
            f"{video_filter},scale={width}:{height}:flags=area,format=gray",
            *(["-frames:v", str(limit)] if limit else []), "-f", "rawvideo", "-"]
    wanted = set(keep) if keep is not None else None
    frame_bytes = width * height
    found: dict[int, Thumb] = {}
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    index = 0
    while chunk := process.stdout.read(frame_bytes):
        if len(chunk) < frame_bytes:
            break
        if wanted is None or index in wanted:
            found[index] = np.frombuffer(chunk, np.uint8).reshape(height, width).astype(np.int16)
        index += 1
    _, stderr = process.communicate()
    if process.returncode != 0:
        raise FfmpegError(f"cannot decode frames: {_last_line(stderr.decode(errors='replace'))}")
    return found


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
