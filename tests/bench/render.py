"""Render benchmark: `vss render` against the seed edge's way (one re-encode per clip with
`ffmpeg -ss <start> -i <episode> -t <duration>`, then `concat -c copy`, then the narration
muxed in) on a demo timeline over the real blueprint's scenes and placeholder episodes.
Speed in x real time, and both outputs checked the same way: frame count against the
timeline, and every clip's first and last frame against its source. Measures, never asserts.

Our time is the whole `render()` call (probing the files included) less its self-check, which
is timed apart. Named figures go to build/bench.json (`tests.support.bench_figures`), each with
the load average: `render.speedup_vs_naive` (the naive seconds over ours), `render.check_share`
(the self-check's seconds as a share of the render's) and `render.realtime_factor` (timeline
seconds over render seconds). With `--repeats N` the two approaches run in turn N times and
each time (ours, its check, the naive one) is the best of its N (the machine is shared:
back-to-back runs compare best).
Run: `python -m tests.bench.render` (no stack needed); `--smoke` for a short timeline.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from tests.support.bench_figures import OUTPUT, figure, record
from tests.support.paths import BLUEPRINT
from tests.support.render import speech_wav
from vss.domain.dataset import parse_dataset
from vss.edge.media import write_demo_media
from vss.edge.render import RenderOptions, render
from vss.edge.render.check import check_cuts, check_duration
from vss.edge.render.graph import OutputFormat
from vss.edge.render.plan import Timeline, build_timeline, load_script
from vss.edge.render.report import RenderReport
from vss.edge.render.runner import PRESET
from vss.edge.render.verify import CutsSummary, cuts_summary

FPS = 25
SIZE = (640, 360)
SEGMENTS = 12
SMOKE_SEGMENTS, SMOKE_SIZE = 2, (320, 180)  # two episodes, about 20 s of timeline
CLIPS_PER_SEGMENT = 4
CLIP_FRAMES = (52, 75, 61, 88)  # 2.08-3.52 s: cuts rarely on a keyframe (every 50 frames)


def _tc(frame: int) -> str:
    ms = frame * 1000 // FPS
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def demo_script(folder: Path, segments: int = SEGMENTS) -> tuple[Path, set[int]]:
    """An editing script of the editing stage's shape over the blueprint's scenes in story
    order, with narration WAVs of the segments' lengths."""
    dataset = parse_dataset(BLUEPRINT.read_bytes())
    scenes = [s for s in dataset.scenes_in_story_order() if s.duration > 8]
    files = {c.id: c.source_file for c in dataset.chapters}
    items: list[dict[str, Any]] = []
    chapters: set[int] = set()
    cursor = 0
    for index in range(segments):
        clips = []
        for k in range(CLIPS_PER_SEGMENT):
            scene = scenes[(index * CLIPS_PER_SEGMENT + k) % len(scenes)]
            frames = CLIP_FRAMES[(index + k) % len(CLIP_FRAMES)]
            first = round(scene.start.seconds * FPS) + 7 * k + 3
            last_allowed = round(scene.end.seconds * FPS) - frames
            first = min(first, max(round(scene.start.seconds * FPS), last_allowed))
            mode = ("ducked", "narration_only")[(index + k) % 2]
            clips.append({"scene_id": scene.id, "chapter_id": scene.chapter_id,
                          "source_file": files[scene.chapter_id], "start_time": _tc(first),
                          "end_time": _tc(first + frames), "duration": frames / FPS,
                          "frames": frames, "source_in_frame": first, "audio_mode": mode,
                          "source_gain_db": -18.0 if mode == "ducked" else None,
                          "timeline_start_frame": cursor})
            cursor += frames
            chapters.add(scene.chapter_id)
        seconds = sum(c["frames"] for c in clips) / FPS
        wav = f"seg_{index:04d}.wav"
        speech_wav(folder / wav, seconds, seed=index)
        items.append({"narration": f"第{index + 1}段解说。她终于明白了这一切。",
                      "narration_duration": seconds, "narration_audio_path": wav,
                      "b_roll_clips": clips})
    script = folder / "editing_script.json"
    script.write_text(json.dumps({"editing_script": items, "fps": FPS,
                                  "total_duration": cursor / FPS, "total_frames": cursor},
                                 ensure_ascii=False))
    return script, chapters


def naive(timeline: Timeline, media: Path, files: list[str], audio: list[Path], out: Path,
          work: Path, size: tuple[int, int] = SIZE) -> None:
    """The seed edge: each clip re-encoded on its own, concatenated by copy, narration muxed."""
    listing = []
    for k, (clip, name) in enumerate(zip(timeline.clips, files, strict=True)):
        part = work / f"clip{k:04d}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", timeline.timecode(clip.source_in),
                        "-i", str(media / name), "-t", f"{clip.frames / FPS:.3f}",
                        "-vf", f"scale={size[0]}:{size[1]}", "-c:v", "libx264", "-preset",
                        "veryfast", "-crf", "20", "-c:a", "aac", str(part)], check=True)
        listing.append(f"file '{part}'")
    (work / "clips.txt").write_text("\n".join(listing) + "\n")
    (work / "voice.txt").write_text("".join(f"file '{p}'\n" for p in audio))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i",
                    str(work / "clips.txt"), "-c", "copy", str(work / "video.mp4")], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i",
                    str(work / "voice.txt"), "-c", "copy", str(work / "voice.wav")], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(work / "video.mp4"), "-i",
                    str(work / "voice.wav"), "-map", "0:v", "-map", "1:a", "-c:v", "copy",
                    "-c:a", "aac", str(out)], check=True)


@dataclass
class Case:
    """The demo timeline, its files and where the outputs go."""

    work: Path
    script: Path
    media: Path
    timeline: Timeline
    size: tuple[int, int]
    episodes: int
    media_seconds: float


def prepare(work: Path, segments: int, size: tuple[int, int]) -> Case:
    script, chapters = demo_script(work, segments)
    media = work / "media"
    started = time.monotonic()
    write_demo_media(parse_dataset(BLUEPRINT.read_bytes()), media, size=size, chapters=chapters)
    return Case(work, script, media, build_timeline(load_script(script.read_bytes())), size,
                len(chapters), time.monotonic() - started)


def run_ours(case: Case, preset: str) -> tuple[float, RenderReport]:
    """(seconds the render took, its report): the whole call less the self-check it timed."""
    console = Console(stderr=True, quiet=True)
    started = time.monotonic()
    report = render(case.script, RenderOptions(media_dir=case.media, out=case.work / "ours.mp4",
                                               console=console, preset=preset))
    return time.monotonic() - started - report.verify_seconds, report


def run_naive(case: Case, files: list[str]) -> float:
    folder = case.work / "naive"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    started = time.monotonic()
    naive(case.timeline, case.media, files, sorted(case.work.glob("seg_*.wav")),
          case.work / "naive.mp4", folder, case.size)
    return time.monotonic() - started


def check_file(case: Case, out: Path, files: list[str]) -> tuple[int, CutsSummary]:
    """(video frames, cuts) of an output, checked against the sources decoded here (the
    render's own check takes its source frames from its own decode)."""
    fmt = OutputFormat(*case.size, case.timeline.fps)
    cuts = check_cuts(case.timeline, out, [case.media / name for name in files], fmt)
    return check_duration(case.timeline, out).video_frames, cuts_summary(cuts)


def run(case: Case, repeats: int, preset: str = PRESET
        ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The table's rows, and the named figures (read as soon as the last run ends)."""
    ours: list[tuple[float, RenderReport]] = []
    naive_seconds: list[float] = []
    for _ in range(repeats):  # in turn, so both see the same spells of the machine's load
        ours.append(run_ours(case, preset))
        naive_seconds.append(run_naive(case, [clip.file for clip in ours[-1][1].clips]))
    seconds, report = min(ours, key=lambda run: run[0])
    check = min(run[1].verify_seconds for run in ours)  # the best of each, as for the others
    baseline = min(naive_seconds)
    duration = case.timeline.duration
    figures = {
        "render.speedup_vs_naive": figure(
            round(baseline / seconds, 2), "x", render_seconds=round(seconds, 2),
            naive_seconds=round(baseline, 2), cuts=report.cuts.checked, repeats=repeats),
        "render.check_share": figure(
            round(100 * check / seconds, 1), "%", check_seconds=check,
            render_seconds=round(seconds, 2)),
        "render.realtime_factor": figure(round(duration / seconds, 2), "x",
                                         timeline_seconds=round(duration, 3)),
    }
    # Both outputs checked the same way, after the clock: the last of our runs, as alike as
    # any other, and the naive one.
    files = [clip.file for clip in report.clips]
    ours_frames, ours_cuts = check_file(case, case.work / "ours.mp4", files)
    frames, cuts = check_file(case, case.work / "naive.mp4", files)
    figures["render.speedup_vs_naive"].update(cuts_on_frame=ours_cuts.on_frame,
                                              naive_cuts_on_frame=cuts.on_frame)
    rows = {
        "ours": {"seconds": round(seconds, 2), "x_realtime": round(duration / seconds, 2),
                 "frames": ours_frames, "cuts": ours_cuts, "self_check": report.cuts,
                 "check_seconds": check, "passes": report.passes,
                 "preset": preset,
                 "lufs": report.loudness.integrated_lufs,
                 "true_peak": report.loudness.true_peak_dbtp, "ok": report.ok},
        "naive": {"seconds": round(baseline, 2), "x_realtime": round(duration / baseline, 2),
                  "frames": frames, "cuts": cuts,
                  "worst_offset": max((abs(c.offset) for c in cuts.off), default=0)},
    }
    return rows, figures


def _print(case: Case, rows: dict[str, Any], figures: dict[str, dict[str, Any]],
           repeats: int) -> None:
    t, a, b = case.timeline, rows["ours"], rows["naive"]
    print(f"render: {t.duration:.2f} s timeline, {len(t.clips)} clips in {len(t.cues)} "
          f"segments from {case.episodes} episodes, {case.size[0]}x{case.size[1]} at {FPS} fps "
          f"(demo media written in {case.media_seconds:.1f} s); best of {repeats}")
    print(f"{'approach':<34}{'seconds':>9}{'x real time':>13}{'frames':>8}{'cuts on frame':>15}")
    for label, row in ((f"vss render ({a['preset']})", a),
                       ("naive (re-encode per clip, concat)", b)):
        print(f"{label:<34}{row['seconds']:>9}{row['x_realtime']:>13}{row['frames']:>8}"
              f"{row['cuts'].on_frame:>9}/{row['cuts'].checked:<5}")
    print(f"timeline frames {t.total_frames}; naive worst cut off by {b['worst_offset']} frames; "
          f"vss render in {a['passes']} passes, its own check in {a['check_seconds']} s "
          f"({a['self_check'].on_frame}/{a['self_check'].checked} cuts on frame, "
          f"{'OK' if a['ok'] else 'FAILED'}), {a['lufs']} LUFS, true peak {a['true_peak']} dBTP")
    for name, value in figures.items():
        print(f"{name} = {value['value']} {value['unit']} (load average "
              f"{', '.join(f'{x:.2f}' for x in value['load_average'])} on {value['cores']} "
              "cores)")


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.render",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--segments", type=int, default=SEGMENTS,
                        help=f"segments of {CLIPS_PER_SEGMENT} clips (default: %(default)s)")
    parser.add_argument("--size", type=_size, default=SIZE, help="WIDTHxHEIGHT of the episodes "
                        f"and the output (default: {SIZE[0]}x{SIZE[1]})")
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_SEGMENTS} segments at "
                        f"{SMOKE_SIZE[0]}x{SMOKE_SIZE[1]}: checks the benchmark runs")
    parser.add_argument("--preset", default=PRESET,
                        help="vss render's x264 preset (default: %(default)s; the naive edge "
                        "always encodes with veryfast)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each approach, in turn; the best is kept (default: 1)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        parser.error("ffmpeg is not on PATH")
    segments, size = (SMOKE_SEGMENTS, SMOKE_SIZE) if args.smoke else (args.segments, args.size)
    with tempfile.TemporaryDirectory(prefix="vss-bench-render-") as tmp:
        case = prepare(Path(tmp), segments, size)
        rows, figures = run(case, max(1, args.repeats), args.preset)
    _print(case, rows, figures, max(1, args.repeats))
    record(figures, args.output)
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
