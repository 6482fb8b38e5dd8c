"""The edge's rendering commands of the `vss` console script: `render`, `export` and
`demo-media`.

Exit codes: 0 done (and every check passed), 1 rendered but a check failed (the video, its
report and review page are kept to look at), 2 nothing rendered: each problem on its own line.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vss.domain.dataset import Dataset
    from vss.edge.exports import LinkedExports
    from vss.edge.media import Span

USAGE_ERROR = 2
CHECK_FAILED = 1


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 16 \
            or int(height) < 16:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT (e.g. 1280x720), got {text}")
    return int(width), int(height)


def _fps(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"expected a frame rate (25, 30000/1001), got {text}") from None
    if not 1 <= value <= 120:
        raise argparse.ArgumentTypeError(f"a frame rate between 1 and 120, got {text}")
    return value


def _chapters(text: str) -> set[int]:
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected chapter ids like 1,2,5, got {text}") from None


def _handles(text: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"expected seconds (1, 0.5), got {text}") from None
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError(f"handles between 0 and 60 seconds, got {text}")
    return value


def add_edge_commands(commands: Any) -> None:
    render = commands.add_parser(
        "render", help="render an editing script (or its timeline.otio) to a checked MP4 "
        "(FFmpeg)",
        description="Cut the episodes frame-accurately, mix the narration with each clip's "
        "source audio by its audio mode, normalise loudness (-16 LUFS, true peak <= -1 dBTP), "
        "burn in subtitles, then check duration, cuts and loudness with ffprobe/FFmpeg and "
        "write OUT.render.json and a review page (index.html) next to the video. Given the "
        "OTIO timeline the editing stage exported (a file ending in .otio), it renders that "
        "timeline: its cuts, freeze-frames, levels and narration, each clip from the file it "
        "links to (`vss export`), else from --media.")
    render.add_argument("script", type=Path,
                        help="editing_script.json, or timeline.otio (the editing stage's export)")
    render.add_argument("--media", type=Path,
                        help="folder of episode files (see `vss demo-media` for the names); "
                        "for a timeline.otio, only for clips not linked to a file here")
    render.add_argument("--out", required=True, type=Path, help="the MP4 to write")
    render.add_argument("--audio", type=Path,
                        help="folder of the narration WAVs (default: the script's folder)")
    render.add_argument("--dataset", type=Path,
                        help="the dataset, for episode file names clips do not carry")
    render.add_argument("--dubbing", type=Path,
                        help="dubbing_script.json: its fit and loudness go on the review page")
    render.add_argument("--size", type=_size, help="WIDTHxHEIGHT (default: the first clip's)")
    render.add_argument("--no-subtitles", dest="subtitles", action="store_false",
                        help="do not burn the narration in as subtitles")
    render.add_argument("--duck-db", type=float, default=-18.0,
                        help="gain of a ducked clip that names none (default: -18)")
    render.add_argument("--preset", default="ultrafast",
                        help="x264 preset (default: ultrafast; veryfast: a file about half the "
                        "size at the same CRF, encoded 2.5x slower)")
    render.add_argument("--crf", type=int, default=20, help="x264 quality (default: 20)")
    render.add_argument("--no-review", dest="review", action="store_false",
                        help="do not write the review page")
    export = commands.add_parser(
        "export", help="link the timeline exports to the media files on this machine",
        description="Rewrite the timeline exports in DIR (timeline.otio, timeline.fcpxml, "
        "timeline_fcp7.xml, timeline.edl, as `vss run` downloads them) with absolute file "
        "URLs to the episodes in --media (found as `vss render` finds them) and the narration "
        "WAVs in --audio, so an NLE opens them with every clip linked. Exit code 1 when a "
        "clip's media is missing (each is listed).")
    export.add_argument("dir", type=Path, help="the folder holding the exports")
    export.add_argument("--media", required=True, type=Path, help="folder of episode files")
    export.add_argument("--audio", type=Path,
                        help="folder of the narration WAVs (default: DIR)")
    export.add_argument("--dataset", type=Path,
                        help="the dataset, for episode file names clips do not carry")
    export.add_argument("--out", type=Path, help="write the linked exports here (default: DIR)")
    demo = commands.add_parser(
        "demo-media", help="write placeholder episodes for a dataset",
        description="One test-pattern episode per chapter, as long as its scenes, showing the "
        "episode, the scene, the timecode and the frame number, with a tone. Given an editing "
        "script, only the episodes it uses, and of each only the ranges its clips read (with "
        "handles): the rest of the episode is a black frame per gap, at the same timestamps, "
        "so `vss render` cuts the same frames as from the whole episode.")
    demo.add_argument("dataset", type=Path, help="the dataset (blueprint or NarrativeDataset)")
    demo.add_argument("--out", required=True, type=Path, help="the media folder to write")
    demo.add_argument("--size", type=_size, default=(640, 360), help="default: 640x360")
    demo.add_argument("--fps", type=_fps, default=Fraction(25), help="default: 25")
    demo.add_argument("--chapters", type=_chapters, help="only these chapter ids (1,2,5)")
    demo.add_argument("--editing-script", type=Path,
                      help="editing_script.json: write only the ranges its clips read")
    demo.add_argument("--handles", type=_handles, metavar="SECONDS",
                      help="with --editing-script: seconds kept either side of each clip "
                      "(default: 1)")


def _fail(command: str, problems: list[str]) -> int:
    for problem in problems:
        print(f"vss {command}: {' '.join(problem.split())}", file=sys.stderr)
    return USAGE_ERROR


def _render(args: argparse.Namespace) -> int:
    from vss.edge.exports import LinkedExports
    from vss.edge.render import RenderError, RenderOptions, render
    from vss.edge.render.ffmpeg import FfmpegError
    from vss.edge.render.from_otio import is_otio
    from vss.edge.render.report import summary_lines
    from vss.edge.review import write_review

    timeline = is_otio(args.script.name)
    if args.media is None and not timeline:
        return _fail("render", ["the following arguments are required with an editing "
                                "script: --media (the folder of its episode files)"])
    options = RenderOptions(media_dir=args.media, out=args.out, audio_dir=args.audio,
                            dataset=args.dataset, size=args.size, subtitles=args.subtitles,
                            duck_db=args.duck_db, preset=args.preset, crf=args.crf)
    try:
        report = render(args.script, options)
        page = write_review(args.out, report, args.script, args.dubbing) if args.review else None
        # The exports `vss run` downloaded beside the script, linked beside the preview (a
        # rendered timeline.otio is one of them: it is left as it is).
        linked = LinkedExports() if timeline else link_exports_for(
            args.script.parent, args.out.parent, args.media, args.audio or args.script.parent,
            args.dataset)
    except RenderError as exc:
        return _fail("render", exc.problems)
    except FfmpegError as exc:
        return _fail("render", [str(exc)])
    print(f"vss render: {len(report.cues)} segments, {len(report.clips)} clips, "
          f"{report.duration:.3f} s ({report.total_frames} frames at {report.frame_rate} fps, "
          f"{report.width}x{report.height}) -> {args.out} in {report.render_seconds:.1f} s "
          f"({report.speed_x_realtime:.1f}x real time), checked in "
          f"{report.verify_seconds:.1f} s", file=sys.stderr)
    for note in report.notes:
        print(f"vss render: note: {note}", file=sys.stderr)
    for line in summary_lines(report):
        print(line)
    if page is not None:
        print(f"review page: {page}")
    print_linked("render", linked)
    return 0 if report.ok else CHECK_FAILED


def link_exports_for(exports_dir: Path, out_dir: Path, media: Path, audio: Path,
                     dataset: Path | None) -> LinkedExports:
    from vss.edge.exports import MediaFolders, link_exports
    from vss.edge.render.runner import episode_files
    from vss.edge.state import record_rewritten

    linked = link_exports(exports_dir, out_dir,
                          MediaFolders(media, audio, episode_files(dataset)))
    # Where `vss run` downloaded them: it keeps these bytes, not the cloud's, from now on.
    record_rewritten(out_dir, linked.written)
    return linked


def print_linked(command: str, linked: LinkedExports) -> None:
    if not linked.written:
        return
    print(f"vss {command}: NLE exports {', '.join(str(p) for p in linked.written)}: "
          f"{len(linked.linked)} media files linked", file=sys.stderr)
    for line in linked.missing:
        print(f"vss {command}: {line}", file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    from vss.edge.exports import OTIO_NAME
    from vss.edge.render import RenderError

    if not (args.dir / OTIO_NAME).is_file():
        return _fail("export", [f"{args.dir} holds no {OTIO_NAME} (the editing stage's "
                                "exports, as `vss run` downloads them)"])
    try:
        linked = link_exports_for(args.dir, args.out or args.dir, args.media,
                                  args.audio or args.dir, args.dataset)
    except RenderError as exc:  # the dataset cannot be read
        return _fail("export", exc.problems)
    print_linked("export", linked)
    return CHECK_FAILED if linked.missing else 0


def _demo_media(args: argparse.Namespace) -> int:
    import subprocess

    from vss.domain.dataset import parse_dataset
    from vss.edge.media import Episode, write_demo_media
    from vss.edge.render import RenderError
    from vss.errors import PayloadInvalid

    try:
        dataset = parse_dataset(args.dataset.read_bytes())
    except OSError as exc:
        return _fail("demo-media", [f"cannot read {args.dataset}: {exc.strerror}"])
    except PayloadInvalid as exc:
        return _fail("demo-media", [f"{e['reason']} ({e['pointer'] or '/'})"
                                    for e in exc.details.get("errors", [])] or [exc.message])
    if args.chapters and not args.chapters & {c.id for c in dataset.chapters}:
        return _fail("demo-media", [f"the dataset has no chapter {sorted(args.chapters)}"])
    if args.handles is not None and args.editing_script is None:
        return _fail("demo-media", ["--handles needs --editing-script (whole episodes have "
                                    "no handles)"])
    ranges = None
    if args.editing_script is not None:
        try:
            ranges = _cut_ranges(args.editing_script, dataset, args.handles)
        except RenderError as exc:
            return _fail("demo-media", exc.problems)
        if args.chapters and not args.chapters & set(ranges):
            return _fail("demo-media", [
                f"{args.editing_script} uses none of chapters {sorted(args.chapters)} (it uses "
                f"{', '.join(map(str, ranges))})"])

    def done(episode: Episode) -> None:
        written = "" if episode.ranges is None else (
            f" ({episode.written_seconds:.1f} s of it in {len(episode.ranges)} ranges)")
        print(f"{args.out / episode.name}  episode {episode.chapter.id}, "
              f"{episode.seconds:.3f} s{written}, {len(episode.scenes)} scenes")

    try:
        made = write_demo_media(dataset, args.out, size=args.size, fps=args.fps,
                                chapters=args.chapters, ranges=ranges, done=done)
    except subprocess.CalledProcessError as exc:
        return _fail("demo-media", [f"ffmpeg failed: {(exc.stderr or '').strip()[-300:]}"])
    except FileNotFoundError as exc:
        return _fail("demo-media", [f"{exc.filename} not found (Debian: apt-get install ffmpeg)"])
    total = sum(e.seconds for e in made)
    written = sum(e.written_seconds for e in made)
    cut = "" if ranges is None else f" ({written:.1f} s of it written: the cut's ranges)"
    print(f"vss demo-media: {len(made)} episodes, {total:.1f} s in all{cut} -> {args.out}",
          file=sys.stderr)
    return 0


def _cut_ranges(script: Path, dataset: Dataset, handles: Fraction | None
                ) -> dict[int, tuple[Span, ...]]:
    """The ranges of each episode the editing script reads, its clips laid out as `vss render`
    lays them out (`vss.edge.media.cut_ranges`); RenderError naming what is wrong with the
    script, or each episode it uses that the dataset does not have."""
    from vss.edge.media import HANDLE_SECONDS, cut_ranges
    from vss.edge.render.plan import RenderError, build_timeline, load_script

    try:
        raw = script.read_bytes()
    except OSError as exc:
        raise RenderError([f"cannot read {script}: {exc.strerror}"]) from None
    files = {c.id: c.source_file for c in dataset.chapters if c.source_file}
    timeline = build_timeline(load_script(raw), episode_files=files)
    ranges = cut_ranges(timeline, HANDLE_SECONDS if handles is None else handles)
    unknown = sorted(set(ranges) - {c.id for c in dataset.chapters})
    if unknown:
        raise RenderError([f"the editing script uses episode {chapter}, which the dataset "
                           "does not have" for chapter in unknown])
    return ranges


def run_edge_command(args: argparse.Namespace) -> int:
    if args.command == "export":
        return _export(args)
    return _render(args) if args.command == "render" else _demo_media(args)
