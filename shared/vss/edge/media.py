"""`vss demo-media`: placeholder episodes, so a render works without the real footage.

One file per chapter, named as the renderer looks for it (`vss.edge.naming.media_name`), as long
as its last scene plus a short tail. Each frame shows a test pattern, the episode, the scene
playing at that time, the running timecode and the frame number, so every cut of a render can
be checked by eye; the sound is a tone (its pitch differs per episode) with a beep each second.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from vss.domain.dataset import Chapter, Dataset
from vss.edge.naming import media_name

TAIL_SECONDS = 2.0
EMPTY_CHAPTER_SECONDS = 10.0
WORKERS = 2


@dataclass(frozen=True, slots=True)
class Episode:
    chapter: Chapter
    name: str
    seconds: float
    scenes: tuple[tuple[int, float, float], ...]  # (scene id, start, end)


def episodes(dataset: Dataset, chapters: set[int] | None = None) -> list[Episode]:
    found = []
    for chapter in dataset.chapters:
        if chapters is not None and chapter.id not in chapters:
            continue
        scenes = sorted((s.id, s.start.seconds, s.end.seconds) for s in dataset.scenes.values()
                        if s.chapter_id == chapter.id)
        end = max((e for _, _, e in scenes), default=EMPTY_CHAPTER_SECONDS - TAIL_SECONDS)
        found.append(Episode(chapter, media_name(chapter.id, chapter.source_file),
                             round(end + TAIL_SECONDS, 3), tuple(scenes)))
    return found


def _label(text: str, y: str, enable: str | None = None, color: str = "white") -> str:
    """A drawtext filter (DejaVu Sans through fontconfig: every label is ASCII)."""
    when = f":enable='{enable}'" if enable else ""
    return (f"drawtext=font='DejaVu Sans':text='{text}':x=(w-tw)/2:y={y}:fontsize=h/11"
            f":fontcolor={color}:box=1:boxcolor=black@0.65:boxborderw=6{when}")


def video_filter(episode: Episode) -> str:
    labels = [_label(f"EPISODE {episode.chapter.id:02d}", "h*0.10")]
    for scene_id, start, end in episode.scenes:
        labels.append(_label(f"SCENE {scene_id}", "h*0.24", f"between(t,{start:.3f},{end:.3f})",
                             "yellow"))
    labels.append(_label("%{pts\\:hms}   frame %{frame_num}", "h*0.62"))  # above the subtitles
    return ",".join(labels)


def command(episode: Episode, out: Path, size: tuple[int, int], fps: Fraction) -> list[str]:
    width, height = size
    rate = f"{fps.numerator}/{fps.denominator}"
    tone = 220 + 55 * (episode.chapter.id % 8)
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={rate}",
        "-f", "lavfi", "-i", f"sine=frequency={tone}:beep_factor=4:sample_rate=48000",
        "-vf", video_filter(episode), "-af", "volume=-12dB", "-t", f"{episode.seconds:.3f}",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "26", "-pix_fmt", "yuv420p",
        # A keyframe every 2 s, as in real episodes: cuts rarely fall on one.
        "-g", str(max(1, round(fps * 2))), "-c:a", "aac", "-b:a", "96k", "-ac", "2",
        "-movflags", "+faststart", str(out / episode.name)]


def write_demo_media(dataset: Dataset, out: Path, *, size: tuple[int, int] = (640, 360),
                     fps: Fraction = Fraction(25), chapters: set[int] | None = None,
                     done: Callable[[Episode], None] | None = None) -> list[Episode]:
    """Write every (or the chosen) chapter's episode; raises CalledProcessError with FFmpeg's
    message when one fails."""
    out.mkdir(parents=True, exist_ok=True)
    made = episodes(dataset, chapters)

    def write(episode: Episode) -> Episode:
        subprocess.run(command(episode, out, size, fps), check=True, capture_output=True,
                       text=True)
        return episode

    # Two at a time: drawing the labels is single-threaded, the encoder is not.
    with ThreadPoolExecutor(WORKERS) as pool:
        for episode in pool.map(write, made):
            if done is not None:
                done(episode)
    return made
