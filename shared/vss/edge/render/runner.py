"""`vss render`: an editing script (or the OTIO timeline exported from it, `from_otio`), the
episode files and the narration WAVs to one checked MP4.

Passes: each run of clips (one run unless the timeline is long, so no FFmpeg process holds
hundreds of decoders) decoded once, its picture encoded for good with the subtitles (and the
cut check's reference frames picked); beside them, each run's sound bed, the narration mixed
over the beds and measured, the mix encoded at its loudness gain; then the pictures and the
sound joined as they are. Then the checks and `<out>.render.json`.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from vss.domain.dataset import parse_dataset
from vss.edge.render.captions import subtitles
from vss.edge.render.check import References, check_render, pick
from vss.edge.render.ffmpeg import (
    RAW_THUMBS,
    FfmpegError,
    audio_seconds,
    loudness_summary,
    probe_all,
    read_thumbs,
    require_tools,
    run_ffmpeg,
)
from vss.edge.render.from_otio import is_otio, read_timeline
from vss.edge.render.graph import (
    OutputFormat,
    Piece,
    bed_graph,
    final_audio,
    mix_graph,
    picture_graph,
    thumb_size,
)
from vss.edge.render.plan import (
    DEFAULT_DUCK_DB,
    SAMPLE_RATE,
    RenderError,
    Timeline,
    build_timeline,
    load_script,
)
from vss.edge.render.report import RenderReport, report_clips, report_cues
from vss.edge.render.sources import (
    MediaInfo,
    check_clips,
    clip_files,
    linked_clip_files,
    linked_narration_files,
    local_path,
    narration_files,
)
from vss.edge.render.verify import WINDOW, cuts_summary, windows
from vss.errors import PayloadInvalid

CHUNK_CLIPS = 40  # clips one FFmpeg process decodes at most (each input keeps a decoder)
# Source frames read before a clip's first: the cut check's reference needs the WINDOW frames
# before it, and one more keeps them clear of where the read starts.
LEAD = WINDOW + 1
Step = Callable[[str, float], Callable[[float], None]]  # a progress bar: its label and total
# x264's fastest preset. At the same CRF its picture is no worse than veryfast's (measured
# against a lossless render of the benchmark's clips: SSIM 0.997 against 0.992, PSNR 49.6
# against 42.4 dB) for 40 % of the encoding time; what it costs is the file, about twice as
# large. `--preset veryfast` writes the smaller file.
PRESET = "ultrafast"
CRF = 20
# Beds and the mix between passes: float WAV, as the mix may peak over full scale before its
# gain; RF64 past 4 GiB (about 3 h of stereo).
_LOSSLESS_AUDIO = ["-c:a", "pcm_f32le", "-rf64", "auto"]


@dataclass
class RenderOptions:
    media_dir: Path | None  # an OTIO timeline's linked clips need none
    out: Path
    audio_dir: Path | None = None
    dataset: Path | None = None
    size: tuple[int, int] | None = None
    subtitles: bool = True
    duck_db: float = DEFAULT_DUCK_DB
    preset: str = PRESET
    crf: int = CRF
    chunk_clips: int = CHUNK_CLIPS
    console: Console = field(default_factory=lambda: Console(stderr=True))


def _listing(folder: Path) -> set[str]:
    if not folder.is_dir():
        raise RenderError([f"{folder} is not a folder"])
    return {p.name for p in folder.iterdir() if p.is_file()}


def episode_files(dataset: Path | None) -> dict[int, str]:
    """Each chapter's `source_file` in the dataset (none without one)."""
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


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a render reads: the timeline, each clip's file and each cue's WAV."""

    timeline: Timeline
    clips: list[Path]
    narrations: list[Path]


def script_inputs(script_path: Path, options: RenderOptions) -> Inputs:
    """An editing script's timeline; its episodes in the media folder, its WAVs in the audio
    folder (default: the script's)."""
    if options.media_dir is None:
        raise RenderError(["an editing script needs the folder of its episode files (--media)"])
    try:
        script = load_script(script_path.read_bytes())
    except OSError as exc:
        raise RenderError([f"cannot read {script_path}: {exc.strerror}"]) from None
    timeline = build_timeline(script, duck_db=options.duck_db,
                              episode_files=episode_files(options.dataset))
    audio_dir = options.audio_dir or script_path.parent
    names = clip_files(timeline, _listing(options.media_dir), str(options.media_dir))
    voices = narration_files(timeline, _listing(audio_dir), str(audio_dir))
    return Inputs(timeline, [options.media_dir / name for name in names],
                  [audio_dir / name for name in voices])


def otio_inputs(otio_path: Path, options: RenderOptions) -> Inputs:
    """An exported OTIO timeline's own timeline: each clip's and WAV's file the one it links
    to, when it is there; else, as for a script, the episode in the media folder and the WAV
    by name in the audio folder (default: the OTIO file's, where `vss run` downloads both)."""
    try:
        read = read_timeline(otio_path.read_text(encoding="utf-8"), duck_db=options.duck_db)
    except OSError as exc:
        raise RenderError([f"cannot read {otio_path}: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise RenderError([f"{otio_path} is not an OpenTimelineIO file (not text)"]) from None
    linked = {path for ref in (*read.clip_media, *read.cue_media)
              if (path := local_path(ref)) is not None and path.is_file()}
    media = _listing(options.media_dir) if options.media_dir is not None else set()
    audio_dir = options.audio_dir or otio_path.parent
    clips = linked_clip_files(read.timeline, read.clip_media, linked, media, options.media_dir)
    voices = linked_narration_files(read.timeline, read.cue_media, linked, _listing(audio_dir),
                                    audio_dir)
    return Inputs(read.timeline, clips, voices)


def _labels(paths: list[Path]) -> list[str]:
    """How the checks and the report name each file: by its name, unless two files share it."""
    names: dict[str, set[Path]] = {}
    for path in paths:
        names.setdefault(path.name, set()).add(path)
    return [path.name if len(names[path.name]) == 1 else str(path) for path in paths]


def _pieces(timeline: Timeline, paths: list[Path], infos: list[MediaInfo]) -> list[Piece]:
    pieces = []
    for clip, path, info in zip(timeline.clips, paths, infos, strict=True):
        differs = info.fps is not None and abs(info.fps / timeline.fps - 1) > Fraction(1, 1000)
        pieces.append(Piece(
            path=str(path), source_in=clip.source_in, frames=clip.frames, start=clip.start,
            source_frames=clip.source_frames_needed, lead=min(clip.source_in, LEAD),
            freeze=clip.freeze, gain_db=clip.gain_db if info.has_audio else None,
            convert_fps=differs, reference=tuple(sorted({f for w in windows(clip) for f in w}))))
    return pieces


def _video_codec(fmt: OutputFormat, preset: str, crf: int) -> list[str]:
    gop = max(1, round(fmt.fps * 2))  # a keyframe every 2 s: the review page seeks quickly
    return ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-r", fmt.rate, "-g", str(gop)]


@contextmanager
def _progress(console: Console) -> Iterator[Step]:
    columns = (TextColumn("{task.description:<18}"), BarColumn(), TaskProgressColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        def start(label: str, total: float) -> Callable[[float], None]:
            task = bar.add_task(label, total=max(total, 1e-3))
            return lambda done: bar.update(task, completed=done)
        yield start


def render(source: Path, options: RenderOptions) -> RenderReport:
    """Render an editing script or, its name ending in `.otio`, an exported OTIO timeline;
    check and report; RenderError for anything the user can fix."""
    require_tools()
    inputs = (otio_inputs if is_otio(source.name) else script_inputs)(source, options)
    timeline, paths = inputs.timeline, inputs.clips
    names = _labels(paths)
    files = dict(zip(names, paths, strict=True))
    unique = list(files)
    infos = dict(zip(unique, probe_all([files[name] for name in unique]), strict=True))
    check_clips(timeline, names, infos)
    notes = list(timeline.notes) + _narration_overruns(timeline, inputs.narrations)
    fmt = _output_format(timeline, infos[names[0]], options.size)
    pieces = _pieces(timeline, paths, [infos[n] for n in names])
    narrations = [str(path) for path in inputs.narrations]
    options.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="vss-render-") as tmp, \
            _progress(options.console) as step:
        work = Path(tmp)
        ass = None
        if options.subtitles:
            ass = work / "narration.ass"
            ass.write_text(subtitles(timeline, fmt), encoding="utf-8")
        runs = _split(pieces, options.chunk_clips)
        # The sound beside the picture: it needs no frame, and its passes are single-threaded.
        with ThreadPoolExecutor(1) as beside:
            sound = beside.submit(_render_sound, timeline, runs, narrations, work, step)
            pictures = [_render_picture(timeline, first, run, fmt, work, step, options, ass)
                        for first, run in runs]
            _join(timeline, [picture.video for picture in pictures], sound.result(), work,
                  options.out, step)
        passes = 2 * len(runs) + 3  # each run's picture and bed, the mix, the sound, the join
    references = [thumbs for picture in pictures for thumbs in picture.references]
    rendered = time.monotonic() - started
    checks_started = time.monotonic()
    duration, cuts, loudness = check_render(timeline, options.out, references, fmt)
    report = RenderReport(
        output=options.out.name, fps=float(timeline.fps), frame_rate=fmt.rate,
        width=fmt.width, height=fmt.height, total_frames=timeline.total_frames,
        duration=round(timeline.duration, 6), subtitles=options.subtitles, passes=passes,
        render_seconds=round(rendered, 3),
        speed_x_realtime=round(timeline.duration / rendered, 3) if rendered else 0.0,
        verify_seconds=0.0, notes=notes,
        duration_check=duration, cuts=cuts_summary(cuts), cut_checks=cuts, loudness=loudness,
        clips=report_clips(timeline, names), cues=report_cues(timeline))
    report.verify_seconds = round(time.monotonic() - checks_started, 3)
    report_path(options.out).write_text(
        json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")
    return report


def _narration_overruns(timeline: Timeline, paths: list[Path]) -> list[str]:
    """A narration longer than its slot is cut where the next segment starts: say so."""
    notes = []
    for cue, path in zip(timeline.cues, paths, strict=True):
        spoken = audio_seconds(path)
        slot = timeline.seconds(cue.frames)
        if spoken > slot + timeline.seconds(1):
            notes.append(f"segment {cue.segment + 1}: {path.name} lasts {spoken:.3f} s, its slot "
                         f"{slot:.3f} s: the last {spoken - slot:.3f} s are cut")
    return notes


def report_path(out: Path) -> Path:
    return out.with_name(out.stem + ".render.json")


def _split(pieces: list[Piece], cap: int) -> list[tuple[int, list[Piece]]]:
    """Runs of clips of even length, none over the cap, each with its first clip's index."""
    count = -(-len(pieces) // cap)
    size = -(-len(pieces) // count)
    return [(first, pieces[first:first + size]) for first in range(0, len(pieces), size)]


@dataclass(frozen=True, slots=True)
class Picture:
    """What a picture pass over a run of clips wrote: the picture, encoded for good; each
    clip's reference frames for the cut check."""

    video: Path
    references: References


def _render_picture(timeline: Timeline, first: int, run: list[Piece], fmt: OutputFormat,
                    work: Path, step: Step, options: RenderOptions, ass: Path | None) -> Picture:
    name = f"clips {first + 1}-{first + len(run)}"
    video = work / f"picture{first:04d}.mp4"
    thumbs = [work / f"reference{first + k:04d}.gray" for k in range(len(run))]
    graph = picture_graph(timeline, run, fmt, subtitles=str(ass) if ass else None)
    outputs = [arg for k, piece in enumerate(run) if piece.reference
               for arg in ("-map", f"[r{k}]", *RAW_THUMBS, str(thumbs[k]))]
    seconds = timeline.seconds(sum(piece.frames for piece in run))
    run_ffmpeg([*graph.args(), "-map", "[vout]", *_video_codec(fmt, options.preset, options.crf),
                str(video), *outputs],
               what=f"rendering {name}", seconds=seconds, advance=step(name, seconds))
    size = thumb_size(fmt)
    return Picture(video, [pick(list(piece.reference), read_thumbs(path, size))
                           for piece, path in zip(run, thumbs, strict=True)])


def _render_sound(timeline: Timeline, runs: list[tuple[int, list[Piece]]],
                  narrations: list[str], work: Path, step: Step) -> Path:
    """Each run's bed, the narration mixed over them and measured, the mix encoded at its
    loudness gain."""
    beds = [_render_bed(timeline, first, run, work, step) for first, run in runs]
    mix, sound = work / "mix.wav", work / "sound.m4a"
    lufs, true_peak = _mix(timeline, beds, narrations, mix, step)
    run_ffmpeg(["-i", str(mix), "-af", final_audio(timeline, lufs, true_peak), "-c:a", "aac",
                "-b:a", "192k", "-ar", str(SAMPLE_RATE), "-ac", "2", str(sound)],
               what="encoding the sound", seconds=timeline.duration,
               advance=step("sound", timeline.duration))
    return sound


def _render_bed(timeline: Timeline, first: int, run: list[Piece], work: Path, step: Step
                ) -> Path:
    name = f"sound {first + 1}-{first + len(run)}"
    bed = work / f"bed{first:04d}.wav"
    seconds = timeline.seconds(sum(piece.frames for piece in run))
    run_ffmpeg([*bed_graph(timeline, run).args(), "-map", "[bed]", *_LOSSLESS_AUDIO, str(bed)],
               what=f"rendering the {name}", seconds=seconds, advance=step(name, seconds))
    return bed


def _mix(timeline: Timeline, beds: list[Path], narrations: list[str], mix: Path, step: Step
         ) -> tuple[float, float]:
    """The narration over the beds, kept losslessly; its (integrated LUFS, true peak dBTP)."""
    graph = mix_graph(timeline, [str(bed) for bed in beds], narrations)
    stderr = run_ffmpeg([*graph.args(), "-map", "[mix]", *_LOSSLESS_AUDIO, str(mix),
                         "-map", "[measure]", "-f", "null", "-"],
                        what="mixing and measuring loudness", seconds=timeline.duration,
                        advance=step("mix and measure", timeline.duration))
    measured = loudness_summary(stderr)
    if measured is None:
        raise FfmpegError("ebur128 printed no loudness summary of the mix")
    return measured[0], measured[1]


def _join(timeline: Timeline, videos: list[Path], sound: Path, work: Path, out: Path,
          step: Step) -> None:
    """The runs' pictures end to end (the concat demuxer) and the sound, as encoded."""
    listing = work / "pictures.txt"
    listing.write_text("".join(f"file '{_quoted(video)}'\n" for video in videos),
                       encoding="utf-8")
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(sound),
                "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", "-movflags", "+faststart",
                str(out)],
               what=f"writing {out.name}", seconds=timeline.duration,
               advance=step("join", timeline.duration))


def _quoted(path: Path) -> str:
    """A path inside the concat demuxer's single quotes."""
    return str(path).replace("'", "'\\''")
