"""FFmpeg and ffprobe as subprocesses: probing, running a command with a progress bar,
loudness measurements and frame thumbnails. Everything that shells out lives here."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vss.edge.errors import EdgeError
from vss.edge.render.graph import MEASURE, thumb_scale
from vss.edge.render.sources import MediaInfo
from vss.edge.render.verify import Thumb

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
_TAIL = 12  # lines of FFmpeg's stderr quoted when it fails
PROBES = 4
# The output options of a file of thumbnails: raw frames, passed through as they come (never
# a frame duplicated into a gap between picked ones).
RAW_THUMBS = ["-fps_mode", "passthrough", "-f", "rawvideo"]


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


def audio_seconds(path: Path) -> float:
    """How long a sound file lasts: a PCM WAV's from its header (no process started), any
    other through ffprobe."""
    try:
        with wave.open(str(path)) as wav:
            frames, rate = int(wav.getnframes()), int(wav.getframerate())
    except (OSError, EOFError, wave.Error):  # not a PCM WAV (float samples, another format)
        return probe(path).duration
    return frames / rate


def probe_all(paths: Sequence[Path]) -> list[MediaInfo]:
    """`probe` of each file, a few at once: each mostly waits for ffprobe to start."""
    with ThreadPoolExecutor(PROBES) as pool:
        return list(pool.map(probe, paths))


def stream_facts(path: Path) -> dict[str, Any]:
    """The output's streams as ffprobe reports them, each with its packets counted
    (`nb_read_packets`: the file read through, no frame decoded), not the count the container
    claims."""
    run = subprocess.run(
        [FFPROBE, "-v", "error", "-count_packets", "-print_format", "json", "-show_streams",
         str(path)],
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


def ebur128(path: Path) -> tuple[float, float, float | None]:
    """(integrated LUFS, true peak dBTP, loudness range LU) of a file's audio (BS.1770)."""
    run = subprocess.run(
        # -vn: the picture is not even read
        [FFMPEG, "-hide_banner", "-nostats", "-nostdin", "-vn", "-i", str(path), "-map", "0:a:0",
         "-af", MEASURE, "-f", "null", "-"],
        capture_output=True, text=True, check=False)
    measured = loudness_summary(run.stderr) if run.returncode == 0 else None
    if measured is None:
        raise FfmpegError(f"cannot measure the loudness of {path}: {_last_line(run.stderr)}")
    return measured


def loudness_summary(stderr: str) -> tuple[float, float, float | None] | None:
    """(integrated LUFS, true peak dBTP, loudness range LU) from the summary ebur128 prints
    last; None without one."""
    summary = stderr.rsplit("Summary:", 1)[-1]
    found = {key: re.search(rf"{key}:\s+(-?[\d.]+|-inf)", summary) for key in ("I", "LRA",
                                                                                "Peak")}
    if found["I"] is None or found["Peak"] is None:
        return None
    lra = found["LRA"]
    return (float(found["I"].group(1)), float(found["Peak"].group(1)),
            float(lra.group(1)) if lra else None)


@dataclass(frozen=True, slots=True)
class Take:
    """One decode for thumbnails: the input's options ending with `-i FILE`, and the filter
    that picks and shapes its frames."""

    input_args: list[str]
    video_filter: str


def thumbnails(takes: Sequence[Take], size: tuple[int, int], threads: int = 1
               ) -> list[dict[int, Thumb]]:
    """Greyscale thumbnails of the frames each take's decode yields, by their index in it.
    The takes share one FFmpeg process (its start-up costs more than a short decode), each
    with its own input, decoder (`threads` each: 0 lets FFmpeg choose) and output file, so a
    take that yields fewer frames than asked cannot shift another's."""
    chains = [f"[{k}:v:0]{take.video_filter},{thumb_scale(size)}[t{k}]"
              for k, take in enumerate(takes)]
    with tempfile.TemporaryDirectory(prefix="vss-thumbs-") as tmp:
        outputs = [Path(tmp) / f"take{k}.gray" for k in range(len(takes))]
        args = [FFMPEG, "-v", "error", "-nostdin", "-copyts",
                *[arg for take in takes for arg in ("-threads", str(threads), *take.input_args)],
                "-filter_complex", ";".join(chains)]
        for k, out in enumerate(outputs):
            args += ["-map", f"[t{k}]", *RAW_THUMBS, str(out)]
        run = subprocess.run(args, capture_output=True, check=False)
        if run.returncode != 0:
            raise FfmpegError(f"cannot decode frames: "
                              f"{_last_line(run.stderr.decode(errors='replace'))}")
        return [read_thumbs(out, size) for out in outputs]


def read_thumbs(path: Path, size: tuple[int, int]) -> dict[int, Thumb]:
    """The thumbnails in a raw file (`RAW_THUMBS`), by their index in it; none if it is
    missing (an output FFmpeg never got a frame for)."""
    width, height = size
    raw = path.read_bytes() if path.exists() else b""
    count = len(raw) // (width * height)
    frames = np.frombuffer(raw, np.uint8, count * width * height).reshape(count, height, width)
    return {index: frame.astype(np.int16) for index, frame in enumerate(frames)}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"
