"""`vss demo-media --editing-script` for real (FFmpeg 5.1, small pictures): a 60 s episode
written whole and written for a cut of two short clips. The cut's file lasts the episode and
holds the same frames and sound where the cut reads, at the same timestamps, so the renderer's
seeks read the same; elsewhere one black frame per gap; an eighth of the frames encoded."""

from __future__ import annotations

import json
import resource
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.render import blueprint
from vss.domain.dataset import parse_dataset
from vss.edge.media import cut_ranges, write_demo_media
from vss.edge.render.plan import Timeline, build_timeline, load_script

F = Fraction
SIZE = (160, 90)
LONG_EPISODE = [(1, 1, 0.0, 58.0)]  # 60 s with its tail
# (source_in_frame, frames) at 25 fps: two short clips of a long episode
LONG_CLIPS = [(250, 50), (1000, 38)]


def _tc(frame: int, fps: int = 25) -> str:
    ms = frame * 1000 // fps
    return f"00:{ms // 60_000:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _timeline() -> Timeline:
    clips = [{"scene_id": 1, "chapter_id": 1, "start_time": _tc(first),
              "end_time": _tc(first + frames), "duration": frames / 25, "frames": frames,
              "source_in_frame": first} for first, frames in LONG_CLIPS]
    seconds = sum(frames for _, frames in LONG_CLIPS) / 25
    script = {"editing_script": [{"narration": "x", "narration_duration": seconds,
                                  "narration_audio_path": "seg_0000.wav",
                                  "b_roll_clips": clips}],
              "fps": 25, "total_duration": seconds}
    return build_timeline(load_script(json.dumps(script)))



def _packets(path: Path, stream: str) -> list[float]:
    run = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
                          "packet=pts_time", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return sorted(float(p["pts_time"]) for p in json.loads(run.stdout)["packets"])


def _stream(path: Path, stream: str) -> dict[str, Any]:
    run = subprocess.run(["ffprobe", "-v", "error", "-select_streams", stream, "-show_streams",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True)
    found: dict[str, Any] = json.loads(run.stdout)["streams"][0]
    return found


def _frames(path: Path, seek: float, count: int) -> np.ndarray:
    """`count` frames from `seek` seconds, read the way the renderer reads a clip."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-ss", f"{seek:.6f}", "-i", str(path), "-vf",
         f"setpts=PTS-STARTPTS,trim=end_frame={count},format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, SIZE[1], SIZE[0]).astype(np.int16)


def _sound(path: Path, seek: float, seconds: float) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{seek:.6f}", "-t", f"{seconds}",
                          "-i", str(path), "-vn", "-ac", "1", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4")


def _cpu_seconds() -> float:
    """CPU time of this process's finished children: FFmpeg's work, however busy the machine."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


@dataclass(frozen=True)
class Written:
    whole: Path
    cut: Path
    timeline: Timeline
    whole_cpu: float
    cut_cpu: float


@pytest.fixture(scope="module")
def long_episode(tmp_path_factory: pytest.TempPathFactory) -> Written:
    """A 60 s episode written whole, and written for a cut of two short clips."""
    folder = tmp_path_factory.mktemp("long")
    dataset = parse_dataset(json.dumps(blueprint(LONG_EPISODE)))
    timeline = _timeline()
    started = _cpu_seconds()
    write_demo_media(dataset, folder / "whole", size=SIZE)
    between = _cpu_seconds()
    write_demo_media(dataset, folder / "cut", size=SIZE, ranges=cut_ranges(timeline))
    name = "11_ep01_l1.mp4"
    return Written(folder / "whole" / name, folder / "cut" / name, timeline,
                   between - started, _cpu_seconds() - between)


def test_the_cut_file_lasts_the_episode_and_costs_a_fraction_of_it(long_episode: Written):
    whole, cut = long_episode.whole, long_episode.cut
    for stream in ("v", "a"):
        facts = _stream(whole, stream), _stream(cut, stream)
        assert facts[0]["duration"] == facts[1]["duration"], stream
        assert facts[0]["start_time"] == facts[1]["start_time"] == "0.000000"
    assert Fraction(_stream(cut, "v")["r_frame_rate"]) == 25  # how the renderer reads its rate
    frames = int(_stream(whole, "v")["nb_frames"]), int(_stream(cut, "v")["nb_frames"])
    assert frames[0] == 1500
    assert frames[1] == (50 + 50) + (38 + 50) + 4  # clips, handles, black: 3 gaps, the end
    assert cut.stat().st_size < whole.stat().st_size / 5
    # About a quarter (the test pattern is still drawn for every frame, then dropped).
    assert long_episode.cut_cpu < long_episode.whole_cpu / 2


def test_every_frame_and_audio_packet_of_the_ranges_is_at_its_time_in_the_episode(
        long_episode: Written):
    whole, cut, timeline = long_episode.whole, long_episode.cut, long_episode.timeline
    (ranges,) = cut_ranges(timeline).values()
    for stream in ("v", "a"):
        kept = _packets(cut, stream)
        for start, end in ranges:
            inside = [t for t in _packets(whole, stream) if start <= t < end - F(1, 25)]
            assert inside and set(inside) <= set(kept), (stream, start, end)
    # and nothing else but a black frame at the start of each gap, and the last frame
    outside = [t for t in _packets(cut, "v") if not any(s <= t < e for s, e in ranges)]
    assert outside == [0.0, 13.0, 42.52, 59.96]


def test_the_renderer_reads_the_same_frames_and_sound_from_either(long_episode: Written):
    whole, cut, timeline = long_episode.whole, long_episode.cut, long_episode.timeline
    for clip in timeline.clips:
        seek = timeline.seek_seconds(clip.source_in)
        a, b = _frames(whole, seek, clip.frames), _frames(cut, seek, clip.frames)
        assert len(a) == len(b) == clip.frames
        for i in range(clip.frames):
            near = {j: np.abs(b[i] - a[j]).mean() for j in range(max(0, i - 2),
                                                                  min(clip.frames, i + 3))}
            assert min(near, key=near.__getitem__) == i, (clip.label, i, near)
        x, y = _sound(whole, seek, 1.5), _sound(cut, seek, 1.5)
        # After the AAC decoder's warm-up at the seek, which depends on where the seek lands.
        assert x.size == y.size and np.corrcoef(x[2048:], y[2048:])[0, 1] > 0.99, clip.label


def test_gaps_are_black_under_the_labels_and_silent(long_episode: Written):
    whole, cut = long_episode.whole, long_episode.cut
    for start in (0.0, 13.0, 42.52):
        (gap,), (there,) = _frames(cut, start, 1), _frames(whole, start, 1)
        assert np.median(gap) < 20 < np.median(there), start
    assert np.abs(_sound(cut, 0.0, 0.02)).max() < 1e-3
