"""`vss render`: an editing script, the episode files and the narration WAVs to one checked MP4.

Passes: (a long timeline only) chunks of clips rendered losslessly, so no FFmpeg process holds
hundreds of decoders; a loudness measuring pass over the audio alone; the final encode with
the linear loudness gain and the subtitles; then the checks and `<out>.render.json`.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from vss.domain.dataset import parse_dataset
from vss.edge.render.captions import subtitles
from vss.edge.render.check import check_cuts, check_duration, check_loudness
from vss.edge.render.ffmpeg import loudnorm_measurement, probe, require_tools, run_ffmpeg
from vss.edge.render.graph import OutputFormat, Piece, loudnorm, render_graph
from vss.edge.render.plan import (
    DEFAULT_DUCK_DB,
    RenderError,
    Timeline,
    build_timeline,
    load_script,
)
from vss.edge.render.report import RenderReport, report_clips, report_cues
from vss.edge.render.sources import MediaInfo, check_clips, clip_files, narration_files
from vss.edge.render.verify import cuts_summary
from vss.errors import PayloadInvalid

CHUNK_CLIPS = 40  # clips one FFmpeg process decodes at most (each input keeps a decoder)


@dataclass
class RenderOptions:
    media_dir: Path
    out: Path
    audio_dir: Path | None = None
    dataset: Path | None = None
    size: tuple[int, int] | None = None
    subtitles: bool = True
    duck_db: float = DEFAULT_DUCK_DB
    preset: str = "veryfast"
    crf: int = 20
    chunk_clips: int = CHUNK_CLIPS
    console: Console = field(default_factory=lambda: Console(stderr=True))


def _listing(folder: Path) -> set[str]:
    if not folder.is_dir():
        raise RenderError([f"{folder} is not a folder"])
    return {p.name for p in folder.iterdir() if p.is_file()}


def _episode_files(dataset: Path | None) -> dict[int, str]:
    if dataset is None:
        return {}
    try:
        parsed = parse_dataset(dataset.read_bytes())
    except (OSError, PayloadInvalid) as exc:
        raise RenderError([f"cannot read the dataset {dataset}: {exc}"]) from None
    return {c.id: c.source_file for c in parsed.chapters if c.source_file}


def _output_format(timeline: Timeline, first: MediaInfo, size: tuple[int, int] | None
                   ) -> OutputFormat:
    width, height = size or (first.width, first.height)
    return OutputFormat(width - width % 2, height - height % 2, timeline.fps)


def _pieces(timeline: Timeline, paths: list[Path], infos: list[MediaInfo]) -> list[Piece]:
    pieces = []
    for clip, path, info in zip(timeline.clips, paths, infos, strict=True):
        differs = info.fps is not None and abs(info.fps / timeline.fps - 1) > Fraction(1, 1000)
        pieces.append(Piece(
            path=str(path), seek=timeline.seek_seconds(clip.source_in), frames=clip.frames,
            start=clip.start, source_frames=clip.source_frames_needed, freeze=clip.freeze,
            gain_db=clip.gain_db if info.has_audio else None, convert_fps=differs))
    return pieces


def _encode(fmt: OutputFormat, preset: str, crf: int) -> list[str]:
    gop = max(1, round(fmt.fps * 2))  # a keyframe every 2 s: the review page seeks quickly
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-r", fmt.rate, "-g", str(gop), "-c:a", "aac", "-b:a", "192k", "-ar", "48000",
            "-ac", "2", "-movflags", "+faststart"]


@contextmanager
def _progress(console: Console) -> Iterator[Callable[[str, float], Callable[[float], None]]]:
    columns = (TextColumn("{task.description:<18}"), BarColumn(), TaskProgressColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        def start(label: str, total: float) -> Callable[[float], None]:
            task = bar.add_task(label, total=max(total, 1e-3))
            return lambda done: bar.update(task, completed=done)
        yield start


def render(script_path: Path, options: RenderOptions) -> RenderReport:
    """Render, check and report; RenderError for anything the user can fix."""
    require_tools()
    try:
        script = load_script(script_path.read_bytes())
    except OSError as exc:
        raise RenderError([f"cannot read {script_path}: {exc.strerror}"]) from None
    timeline = build_timeline(script, duck_db=options.duck_db,
                              episode_files=_episode_files(options.dataset))
    audio_dir = options.audio_dir or script_path.parent
    names = clip_files(timeline, _listing(options.media_dir), str(options.media_dir))
    voices = narration_files(timeline, _listing(audio_dir), str(audio_dir))
    infos = {name: probe(options.media_dir / name) for name in dict.fromkeys(names)}
    check_clips(timeline, names, infos)
    notes = list(timeline.notes) + _narration_overruns(timeline, audio_dir, voices)
    fmt = _output_format(timeline, infos[names[0]], options.size)
    paths = [options.media_dir / name for name in names]
    pieces = _pieces(timeline, paths, [infos[n] for n in names])
    converts = [piece.convert_fps for piece in pieces]
    narrations = [str(audio_dir / name) for name in voices]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    passes = 0
    with tempfile.TemporaryDirectory(prefix="vss-render-") as tmp, \
            _progress(options.console) as step:
        work = Path(tmp)
        if len(pieces) > options.chunk_clips:
            pieces = _render_chunks(timeline, pieces, fmt, work, step, options.chunk_clips)
            passes += len(pieces)
        ass = None
        if options.subtitles:
            ass = work / "narration.ass"
            ass.write_text(subtitles(timeline, fmt), encoding="utf-8")
        measure = render_graph(timeline, pieces, narrations, fmt, mix=loudnorm(), video=False)
        stderr = run_ffmpeg([*measure.args(), "-f", "null", "-"], what="measuring loudness",
                            seconds=timeline.duration,
                            advance=step("measure loudness", timeline.duration))
        final = render_graph(timeline, pieces, narrations, fmt,
                             mix=loudnorm(loudnorm_measurement(stderr)),
                             subtitles=str(ass) if ass else None)
        run_ffmpeg([*final.args(), *_encode(fmt, options.preset, options.crf),
                    str(options.out)], what=f"rendering {options.out.name}",
                   seconds=timeline.duration, advance=step("render", timeline.duration))
        passes += 2
    rendered = time.monotonic() - started
    checks_started = time.monotonic()
    cuts = check_cuts(timeline, options.out, paths, fmt, converts)
    report = RenderReport(
        output=options.out.name, fps=float(timeline.fps), frame_rate=fmt.rate,
        width=fmt.width, height=fmt.height, total_frames=timeline.total_frames,
        duration=round(timeline.duration, 6), subtitles=options.subtitles, passes=passes,
        render_seconds=round(rendered, 3),
        speed_x_realtime=round(timeline.duration / rendered, 3) if rendered else 0.0,
        verify_seconds=0.0, notes=notes,
        duration_check=check_duration(timeline, options.out), cuts=cuts_summary(cuts),
        cut_checks=cuts, loudness=check_loudness(options.out),
        clips=report_clips(timeline, names), cues=report_cues(timeline))
    report.verify_seconds = round(time.monotonic() - checks_started, 3)
    report_path(options.out).write_text(
        json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")
    return report


def _narration_overruns(timeline: Timeline, folder: Path, names: list[str]) -> list[str]:
    """A narration longer than its slot is cut where the next segment starts: say so."""
    notes = []
    for cue, name in zip(timeline.cues, names, strict=True):
        spoken = probe(folder / name).duration
        slot = timeline.seconds(cue.frames)
        if spoken > slot + timeline.seconds(1):
            notes.append(f"segment {cue.segment + 1}: {name} lasts {spoken:.3f} s, its slot "
                         f"{slot:.3f} s: the last {spoken - slot:.3f} s are cut")
    return notes


def report_path(out: Path) -> Path:
    return out.with_name(out.stem + ".render.json")


def _render_chunks(timeline: Timeline, pieces: list[Piece], fmt: OutputFormat, work: Path,
                   step: Callable[[str, float], Callable[[float], None]], cap: int
                   ) -> list[Piece]:
    """Runs of clips rendered losslessly (picture and the source bed, gains applied), each
    then read by the final pass as one piece."""
    chunks: list[Piece] = []
    count = -(-len(pieces) // cap)
    size = -(-len(pieces) // count)  # even chunks, none over the cap
    for n, first in enumerate(range(0, len(pieces), size)):
        part = pieces[first:first + size]
        start, frames = part[0].start, sum(p.frames for p in part)
        seconds = timeline.seconds(frames)
        graph = render_graph(timeline, part, [], fmt, mix=None)
        path = work / f"chunk{n:03d}.mkv"
        run_ffmpeg([*graph.args(), "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
                    "-pix_fmt", "yuv420p", "-r", fmt.rate, "-c:a", "pcm_f32le", str(path)],
                   what=f"rendering clips {first + 1}-{first + len(part)}", seconds=seconds,
                   advance=step(f"clips {first + 1}-{first + len(part)}", seconds))
        chunks.append(Piece(path=str(path), seek=0.0, frames=frames, start=start,
                            source_frames=frames, gain_db=0.0, fade=False))
    return chunks
