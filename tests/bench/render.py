"""Render benchmark: `vss render` against the seed edge's way (one re-encode per clip with
`ffmpeg -ss <start> -i <episode> -t <duration>`, then `concat -c copy`, then the narration
muxed in) on a demo timeline over the real blueprint's scenes and placeholder episodes.
Speed in x real time, and both outputs checked the same way: frame count against the
timeline, and every clip's first and last frame against its source. Measures, never asserts.
Run: `python -m tests.bench.render` (no stack needed); figures also go to
build/bench_render.json."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from tests.support.render import speech_wav
from vss.domain.dataset import parse_dataset
from vss.edge.media import write_demo_media
from vss.edge.render import RenderOptions, render
from vss.edge.render.check import check_cuts, check_duration
from vss.edge.render.graph import OutputFormat
from vss.edge.render.plan import Timeline, build_timeline, load_script
from vss.edge.render.verify import cuts_summary

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = ROOT / "examples" / "blueprint_contract_girlfriend.json"
OUTPUT = ROOT / "build" / "bench_render.json"
FPS = 25
SIZE = (640, 360)
SEGMENTS = 12
CLIPS_PER_SEGMENT = 4
CLIP_FRAMES = (52, 75, 61, 88)  # 2.08-3.52 s: cuts rarely on a keyframe (every 50 frames)


def _tc(frame: int) -> str:
    ms = frame * 1000 // FPS
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def demo_script(folder: Path) -> tuple[Path, set[int]]:
    """An editing script of the editing stage's shape over the blueprint's scenes in story
    order, with narration WAVs of the segments' lengths."""
    dataset = parse_dataset(BLUEPRINT.read_bytes())
    scenes = [s for s in dataset.scenes_in_story_order() if s.duration > 8]
    files = {c.id: c.source_file for c in dataset.chapters}
    segments: list[dict[str, Any]] = []
    chapters: set[int] = set()
    cursor = 0
    for index in range(SEGMENTS):
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
        segments.append({"narration": f"第{index + 1}段解说。她终于明白了这一切。",
                         "narration_duration": seconds, "narration_audio_path": wav,
                         "b_roll_clips": clips})
    script = folder / "editing_script.json"
    script.write_text(json.dumps({"editing_script": segments, "fps": FPS,
                                  "total_duration": cursor / FPS, "total_frames": cursor},
                                 ensure_ascii=False))
    return script, chapters


def naive(timeline: Timeline, media: Path, files: list[str], audio: list[Path], out: Path,
          work: Path) -> None:
    """The seed edge: each clip re-encoded on its own, concatenated by copy, narration muxed."""
    listing = []
    for k, (clip, name) in enumerate(zip(timeline.clips, files, strict=True)):
        part = work / f"clip{k:04d}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", timeline.timecode(clip.source_in),
                        "-i", str(media / name), "-t", f"{clip.frames / FPS:.3f}",
                        "-vf", f"scale={SIZE[0]}:{SIZE[1]}", "-c:v", "libx264", "-preset",
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


def main() -> None:
    console = Console(stderr=True, quiet=True)
    with tempfile.TemporaryDirectory(prefix="vss-bench-render-") as tmp:
        work = Path(tmp)
        script, chapters = demo_script(work)
        media = work / "media"
        started = time.monotonic()
        write_demo_media(parse_dataset(BLUEPRINT.read_bytes()), media, size=SIZE,
                         chapters=chapters)
        media_seconds = time.monotonic() - started
        ours = render(script, RenderOptions(media_dir=media, out=work / "ours.mp4",
                                            console=console))
        timeline = build_timeline(load_script(script.read_bytes()))
        files = [clip.file for clip in ours.clips]
        audio = sorted(work.glob("seg_*.wav"))
        started = time.monotonic()
        (work / "naive").mkdir()
        naive(timeline, media, files, audio, work / "naive.mp4", work / "naive")
        naive_seconds = time.monotonic() - started
        fmt = OutputFormat(*SIZE, timeline.fps)
        paths = [media / name for name in files]
        naive_duration = check_duration(timeline, work / "naive.mp4")
        naive_cuts = cuts_summary(check_cuts(timeline, work / "naive.mp4", paths, fmt))
        rows = {
            "timeline": {"seconds": round(timeline.duration, 3), "clips": len(timeline.clips),
                         "segments": len(timeline.cues), "size": f"{SIZE[0]}x{SIZE[1]}",
                         "fps": FPS, "episodes": len(chapters),
                         "demo_media_seconds": round(media_seconds, 2)},
            "vss_render": {"seconds": ours.render_seconds, "x_realtime": ours.speed_x_realtime,
                           "passes": ours.passes, "frames": ours.duration_check.video_frames,
                           "cuts_on_frame": ours.cuts.on_frame, "cuts": ours.cuts.checked,
                           "verify_seconds": ours.verify_seconds,
                           "lufs": ours.loudness.integrated_lufs,
                           "true_peak": ours.loudness.true_peak_dbtp},
            "naive": {"seconds": round(naive_seconds, 2),
                      "x_realtime": round(timeline.duration / naive_seconds, 2),
                      "frames": naive_duration.video_frames,
                      "cuts_on_frame": naive_cuts.on_frame, "cuts": naive_cuts.checked,
                      "worst_offset": max((abs(c.offset) for c in naive_cuts.off), default=0)},
        }
    t, a, b = rows["timeline"], rows["vss_render"], rows["naive"]
    print(f"render: {t['seconds']} s timeline, {t['clips']} clips in {t['segments']} segments "
          f"from {t['episodes']} episodes, {t['size']} at {t['fps']} fps "
          f"(demo media written in {t['demo_media_seconds']} s)")
    print(f"{'approach':<34}{'seconds':>9}{'x real time':>13}{'frames':>8}{'cuts on frame':>15}")
    print(f"{'vss render (checked, normalised)':<34}{a['seconds']:>9}{a['x_realtime']:>13}"
          f"{a['frames']:>8}{a['cuts_on_frame']:>9}/{a['cuts']:<5}")
    print(f"{'naive (re-encode per clip, concat)':<34}{b['seconds']:>9}{b['x_realtime']:>13}"
          f"{b['frames']:>8}{b['cuts_on_frame']:>9}/{b['cuts']:<5}")
    print(f"timeline frames {round(t['seconds'] * FPS)}; naive worst cut off by "
          f"{b['worst_offset']} frames; vss render checked in {a['verify_seconds']} s, "
          f"{a['lufs']} LUFS, true peak {a['true_peak']} dBTP")
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is not on PATH")
    main()
