"""`vss demo-media`: placeholder episodes, so a render works without the real footage.

One file per chapter, named as the renderer looks for it
(`vss.domain.media_names.media_name`), as long as its last scene plus a short tail. Each frame
shows a test pattern, the episode, the scene playing at that time, the running timecode and the
frame number, so every cut of a render can be checked by eye; the sound is a tone (its pitch
differs per episode) with a beep each second.

Given the ranges a cut reads (`cut_ranges`), an episode holds only those: there its frames and
its sound are the whole episode's, at the same timestamps, so the renderer's seeks land on the
same frames. Each stretch between two ranges is one black frame (the labels still on it), held
until the next range (the file's frame rate is variable), and the sound pauses there after at
most one silent block; the file still lasts the whole episode. FFmpeg then encodes a few
seconds per clip instead of every episode the cut touches (it still makes the test pattern of
every frame, then drops those left out: cheap beside drawing and encoding them).
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TypeVar

from vss.domain.dataset import Chapter, Dataset
from vss.domain.media_names import media_name
from vss.edge.render.plan import Timeline

TAIL_SECONDS = 2.0
EMPTY_CHAPTER_SECONDS = 10.0
WORKERS = 2
# Either side of a clip: the renderer decodes a frame or two past a clip's end, its cut check
# reads from a second before the clip, and an editor trimming a cut wants some slack.
HANDLE_SECONDS = Fraction(1)
SAMPLE_RATE = 48_000
# The tone reaches the encoder in blocks of one AAC frame (the `sine` source's default): a range
# kept in whole blocks is encoded as the same packets, at the same timestamps, as in the whole
# episode. A block cut in two would be re-blocked across the gap and its timestamps shifted.
AUDIO_BLOCK = 1024

Span = tuple[Fraction, Fraction]  # [start, end) in seconds of an episode
N = TypeVar("N", int, Fraction)


@dataclass(frozen=True, slots=True)
class Episode:
    chapter: Chapter
    name: str
    seconds: float
    scenes: tuple[tuple[int, float, float], ...]  # (scene id, start, end)
    ranges: tuple[Span, ...] | None = None  # what the file holds; None: all of it

    @property
    def written_seconds(self) -> float:
        if self.ranges is None:
            return self.seconds
        return float(sum(end - start for start, end in self.ranges))


def merged(spans: Iterable[tuple[N, N]]) -> tuple[tuple[N, N], ...]:
    """Non-empty `[start, end)` spans in order, those that overlap or touch made one."""
    out: list[tuple[N, N]] = []
    for start, end in sorted(span for span in spans if span[0] < span[1]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)


def cut_ranges(timeline: Timeline, handle: Fraction = HANDLE_SECONDS
               ) -> dict[int, tuple[Span, ...]]:
    """Per chapter, the seconds of its episode a cut reads: each clip's source frames (a
    freeze-frame's one) with `handle` seconds either side, merged where they overlap."""
    found: dict[int, list[Span]] = {}
    for clip in timeline.clips:
        start = clip.source_in / timeline.fps
        end = (clip.source_in + clip.source_frames_needed) / timeline.fps
        found.setdefault(clip.chapter_id, []).append((max(Fraction(0), start - handle),
                                                      end + handle))
    return {chapter: merged(spans) for chapter, spans in sorted(found.items())}


def _within(spans: Sequence[Span], seconds: float) -> tuple[Span, ...]:
    """The spans cut to the episode (a clip past its end is the renderer's to report)."""
    end = _exact(seconds)
    return tuple((start, min(stop, end)) for start, stop in spans if start < end)


def episodes(dataset: Dataset, chapters: set[int] | None = None,
             ranges: Mapping[int, Sequence[Span]] | None = None) -> list[Episode]:
    """The episodes to write: every chapter's, or the chosen ones'; with `ranges`, only those
    of the chapters it names, each holding its ranges."""
    found = []
    for chapter in dataset.chapters:
        if chapters is not None and chapter.id not in chapters:
            continue
        if ranges is not None and chapter.id not in ranges:
            continue
        scenes = sorted((s.id, s.start.seconds, s.end.seconds) for s in dataset.scenes.values()
                        if s.chapter_id == chapter.id)
        end = max((e for _, _, e in scenes), default=EMPTY_CHAPTER_SECONDS - TAIL_SECONDS)
        seconds = round(end + TAIL_SECONDS, 3)
        kept = None if ranges is None else _within(ranges[chapter.id], seconds)
        found.append(Episode(chapter, media_name(chapter.id, chapter.source_file), seconds,
                             tuple(scenes), kept))
    return found


@dataclass(frozen=True, slots=True)
class Layout:
    """What a file of some ranges holds, at its frame rate: runs of frames `[first, end)` and
    of audio blocks, a black frame starting each gap (and ending the file), a silent block
    under each of those."""

    frames: tuple[tuple[int, int], ...]
    black: tuple[int, ...]
    blocks: tuple[tuple[int, int], ...]
    silent: tuple[int, ...]


def layout(ranges: Sequence[Span], seconds: float, fps: Fraction) -> Layout:
    """The frames and blocks at `fps` of an episode `seconds` long that hold `ranges`: from
    the first frame a range touches to the last, from the first audio block those frames
    touch to the last."""
    total = frame_count(seconds, fps)
    frames = merged((math.floor(start * fps), min(total, math.ceil(end * fps)))
                    for start, end in ranges)
    black: list[int] = []
    at = 0
    for first, end in frames:
        if first > at:
            black.append(at)
        at = end
    if at < total:
        black.append(at)
    if total - 1 > at:
        black.append(total - 1)  # so the file lasts as long as the episode
    blocks_total = math.ceil(Fraction(round(seconds * SAMPLE_RATE), AUDIO_BLOCK))

    def block(frame: int) -> Fraction:
        return frame * SAMPLE_RATE / fps / AUDIO_BLOCK

    blocks = merged((math.floor(block(first)), min(blocks_total, math.ceil(block(end))))
                    for first, end in frames)
    covered = {b for first, end in blocks for b in range(first, end)}
    under_black = {math.floor(block(frame)) for frame in black} | {blocks_total - 1}
    return Layout(frames, tuple(black), blocks, tuple(sorted(under_black - covered)))


def frame_count(seconds: float, fps: Fraction) -> int:
    """The frames of an episode `seconds` long: those that start before its end, as the
    sources bounded by its duration make them."""
    return math.ceil(_exact(seconds) * fps)


def _exact(seconds: float) -> Fraction:
    return Fraction(seconds).limit_denominator(1000)  # episode lengths are whole milliseconds


def _label(text: str, y: str, enable: str | None = None, color: str = "white") -> str:
    """A drawtext filter (DejaVu Sans through fontconfig: every label is ASCII)."""
    when = f":enable='{enable}'" if enable else ""
    return (f"drawtext=font='DejaVu Sans':text='{text}':x=(w-tw)/2:y={y}:fontsize=h/11"
            f":fontcolor={color}:box=1:boxcolor=black@0.65:boxborderw=6{when}")


def _any(terms: Iterable[str]) -> str:
    """An expression true when one of `terms` is (0 when there is none)."""
    return "+".join(terms) or "0"


def _selected(runs: Sequence[tuple[int, int]], singles: Sequence[int]) -> str:
    """True for the frames (or blocks) `n` of the runs and of the singles."""
    return _any([*(f"between(n,{first},{end - 1})" for first, end in runs),
                 *(f"eq(n,{n})" for n in singles)])


def video_filter(episode: Episode, fps: Fraction, kept: Layout | None = None) -> str:
    steps = []
    if kept is not None:
        # Picked before the labels are drawn: drawing is what costs, not the test pattern.
        steps += [f"drawbox=color=black:t=fill:enable='{_selected([], kept.black)}'",
                  f"select='{_selected(kept.frames, kept.black)}'"]
    steps.append(_label(f"EPISODE {episode.chapter.id:02d}", "h*0.10"))
    for scene_id, start, end in episode.scenes:
        steps.append(_label(f"SCENE {scene_id}", "h*0.24", f"between(t,{start:.3f},{end:.3f})",
                            "yellow"))
    # The frame number from the timestamp: with frames left out, a count would not be it.
    number = f"%{{eif\\:t*{fps.numerator}/{fps.denominator}+0.5\\:d}}"
    steps.append(_label(f"%{{pts\\:hms}}   frame {number}", "h*0.62"))  # above the subtitles
    return ",".join(steps)


def audio_filter(kept: Layout | None = None) -> str:
    steps = ["volume=-12dB"]
    if kept is not None:
        if kept.silent:
            steps.append(f"volume=0:enable='{_selected([], kept.silent)}'")
        steps.append(f"aselect='{_selected(kept.blocks, kept.silent)}'")
    return ",".join(steps)


def command(episode: Episode, out: Path, size: tuple[int, int], fps: Fraction) -> list[str]:
    width, height = size
    rate = f"{fps.numerator}/{fps.denominator}"
    tone = 220 + 55 * (episode.chapter.id % 8)
    kept = None if episode.ranges is None else layout(episode.ranges, episode.seconds, fps)
    # The sources end the episode, not `-t`: with frames left out, `-t` would wait for ever
    # for a frame past its end; and they make every frame that starts before it.
    seconds = f"{episode.seconds:.3f}"
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds}",
        "-f", "lavfi", "-i",
        f"sine=frequency={tone}:beep_factor=4:sample_rate={SAMPLE_RATE}:duration={seconds}",
        "-vf", video_filter(episode, fps, kept), "-af", audio_filter(kept),
        # Each kept frame at its own timestamp: no frame made up to fill a gap.
        *(["-fps_mode", "passthrough"] if kept is not None else []),
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "26", "-pix_fmt", "yuv420p",
        # A keyframe every 2 s, as in real episodes: cuts rarely fall on one.
        "-g", str(max(1, round(fps * 2))), "-c:a", "aac", "-b:a", "96k", "-ac", "2",
        "-movflags", "+faststart", str(out / episode.name)]


def write_demo_media(dataset: Dataset, out: Path, *, size: tuple[int, int] = (640, 360),
                     fps: Fraction = Fraction(25), chapters: set[int] | None = None,
                     ranges: Mapping[int, Sequence[Span]] | None = None,
                     done: Callable[[Episode], None] | None = None) -> list[Episode]:
    """Write every (or the chosen) chapter's episode, or with `ranges` (`cut_ranges`) only
    those ranges of the episodes they name; raises CalledProcessError with FFmpeg's message
    when one fails."""
    out.mkdir(parents=True, exist_ok=True)
    made = episodes(dataset, chapters, ranges)

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
