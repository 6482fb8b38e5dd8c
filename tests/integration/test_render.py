"""`vss demo-media` and `vss render` for real (FFmpeg 5.1), on a small case: every frame of the
output is the source frame the script names, checked independently of the renderer's own check
(each file decoded from its start, frames counted); the mix follows each clip's audio mode;
loudness and streams are what was promised; missing or short sources fail by name."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from tests.support.render import (
    CLIPS,
    VOICE_HZ,
    demo_media,
    run_vss,
    speech_wav,
    write_case,
)
from vss.edge.render import RenderOptions, render
from vss.edge.render.check import check_cuts, check_duration, check_loudness
from vss.edge.render.graph import OutputFormat
from vss.edge.render.plan import Timeline, build_timeline, load_script
from vss.edge.render.verify import cuts_summary

TONE_EP1, TONE_EP2 = 275.0, 330.0  # vss.edge.media: 220 + 55 x (chapter id mod 8)


def _frames(path: Path) -> np.ndarray:
    """Every frame of a file, decoded from its start, as 64x36 greyscale at 320x180."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf",
         "scale=320:180,scale=64:36:flags=area,format=gray", "-f", "rawvideo", "-"],
        capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, 36, 64).astype(np.int16)


def _audio(path: Path) -> np.ndarray:
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "48000",
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4")


def _level(samples: np.ndarray, start: float, hz: float, seconds: float = 0.5) -> float:
    """Amplitude of one frequency in a window (Hann-weighted DFT bin)."""
    chunk = samples[round(start * 48000):round((start + seconds) * 48000)]
    window = np.hanning(chunk.size)
    t = np.arange(chunk.size) / 48000
    return float(2 * abs(np.sum(chunk * window * np.exp(-2j * np.pi * hz * t))) / window.sum())


def _db(a: float, b: float) -> float:
    return 20 * np.log10(max(a, 1e-9) / max(b, 1e-9))


def _probe(path: Path) -> dict[str, Any]:
    run = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams",
                          str(path)], capture_output=True, text=True, check=True)
    return {s["codec_type"]: s for s in json.loads(run.stdout)["streams"]}


@pytest.mark.parametrize(("fps", "rate"), [(25.0, "25"), (29.97, "30000/1001")])
def test_every_frame_lands_and_the_mix_follows_the_audio_modes(tmp_path: Path, fps: float,
                                                                 rate: str):
    case = write_case(tmp_path / "case", fps=fps)
    media = demo_media(case, rate)
    out = tmp_path / "out" / "video.mp4"
    run = run_vss("render", case.script, "--media", media, "--out", out, "--dubbing",
                  case.dubbing)
    assert run.returncode == 0, run.stderr
    assert "check cuts: 9 of 9 clip edges on their frame OK" in run.stdout
    assert "check duration: video 111 frames" in run.stdout and "check loudness:" in run.stdout
    assert (out.parent / "index.html").is_file()

    streams = _probe(out)
    video, audio = streams["video"], streams["audio"]
    assert (video["codec_name"], video["pix_fmt"], video["width"], video["height"]) == (
        "h264", "yuv420p", 320, 180)
    assert Fraction(video["r_frame_rate"]) == Fraction(rate) and int(video["nb_frames"]) == 111
    assert (audio["codec_name"], int(audio["sample_rate"]), audio["channels"]) == ("aac", 48000,
                                                                                  2)
    assert abs(float(audio["duration"]) - 111 / float(Fraction(rate))) < 1 / fps

    # Every output frame is the source frame the script names: nearest among its neighbours.
    output = _frames(out)
    sources = {1: _frames(media / "11_ep01_l1.mp4"), 2: _frames(media / "13_ep02_l1.mp4")}
    assert len(output) == 111
    at = 0
    for _, _, chapter, source_in, count, _, _, freeze, _ in CLIPS:
        for i in range(count):
            expected = source_in if freeze else source_in + i
            near = range(max(0, expected - 2), expected + 3)
            distance = {f: np.abs(output[at + i] - sources[chapter][f]).mean() for f in near}
            assert min(distance, key=distance.__getitem__) == expected, (at + i, distance)
        at += count

    report = json.loads((out.parent / "video.render.json").read_text())
    assert report["cuts"]["on_frame"] == 9 and report["duration_check"]["ok"]
    loud = report["loudness"]
    assert abs(loud["integrated_lufs"] + 16) <= 1 and loud["true_peak_dbtp"] <= -1

    # The mix: the loudness gain is linear, so levels compare across the timeline.
    samples = _audio(out)
    seconds = 1 / fps

    def mid(first: int, frames: int) -> float:
        return (first + frames / 2) * seconds - 0.25

    key = _level(samples, mid(91, 20), TONE_EP1)  # the key line: original audio at 0 dB
    assert _db(_level(samples, mid(0, 30), TONE_EP1), key) == pytest.approx(-18, abs=1.5)
    assert _db(_level(samples, mid(50, 25), TONE_EP1), key) == pytest.approx(-12, abs=1.5)
    # narration only: the source is muted (what remains is the narration's own noise floor)
    assert _db(_level(samples, mid(30, 20), TONE_EP2), key) < -30
    voice = _level(samples, mid(0, 30), VOICE_HZ)
    assert _db(_level(samples, mid(91, 20), VOICE_HZ), voice) < -30  # narration paused


@pytest.mark.parametrize(("fps", "rate"), [(25.0, "25"), (29.97, "30000/1001")])
def test_episodes_of_the_cut_s_ranges_render_the_same_video(tmp_path: Path, fps: float,
                                                             rate: str):
    """`vss demo-media --editing-script`: the render from the cut's ranges (plus handles) is
    the render from the whole episodes, frame for frame, and its checks pass the same."""
    case = write_case(tmp_path / "case", fps=fps)
    outputs = []
    for cut_only in (False, True):
        media = demo_media(case, rate, cut_only=cut_only)
        out = tmp_path / f"{media.name}.mp4"
        run = run_vss("render", case.script, "--media", media, "--out", out, "--no-review")
        assert run.returncode == 0, run.stderr
        assert "check cuts: 9 of 9 clip edges on their frame OK" in run.stdout
        outputs.append(out)
    whole, cut = (_frames(out) for out in outputs)
    assert len(whole) == len(cut) == 111
    for i in range(111):  # the nearest of its neighbours (a frozen clip's are all alike)
        near = {j: np.abs(cut[i] - whole[j]).mean() for j in range(max(0, i - 1), min(111, i + 2))}
        assert near[i] < min(2.0, min(near.values()) + 0.05), (i, near)
    sound = [_audio(out) for out in outputs]
    assert sound[0].size == sound[1].size and np.corrcoef(*sound)[0, 1] > 0.99
    assert sorted(p.name for p in (case.folder / "media-cut").iterdir()) == [
        "11_ep01_l1.mp4", "13_ep02_l1.mp4"]


def test_a_long_timeline_renders_in_chunks_just_as_exactly(tmp_path: Path):
    case = write_case(tmp_path / "case")
    media = demo_media(case)
    speech_wav(case.folder / "seg_0000.wav", 2.5)  # half a second longer than its slot
    out = tmp_path / "chunked.mp4"
    report = render(case.script, RenderOptions(media_dir=media, out=out, chunk_clips=2,
                                               subtitles=False))
    # three runs of at most two clips, each its picture and bed; the mix, the sound, the join
    assert report.passes == 3 * 2 + 3
    assert report.ok, report.model_dump_json(indent=1)
    assert report.cuts.on_frame == report.cuts.checked == 9
    assert report.duration_check.video_frames == 111
    assert report.notes == ["segment 1: seg_0000.wav lasts 2.500 s, its slot 2.000 s: the last "
                            "0.500 s are cut"]


def test_a_seed_script_renders_with_the_dataset_naming_its_episodes(tmp_path: Path):
    case = write_case(tmp_path / "case", seed_fields_only=True)
    media = demo_media(case)
    out = tmp_path / "seed.mp4"
    run = run_vss("render", case.script, "--media", media, "--out", out, "--no-review")
    assert run.returncode == 2 and "(looked for ep01.mp4, ep01.mkv" in run.stderr
    run = run_vss("render", case.script, "--media", media, "--out", out, "--no-review",
                  "--dataset", case.dataset)
    assert run.returncode == 0, run.stderr
    assert "check cuts: 8 of 8 clip edges on their frame OK" in run.stdout  # nothing frozen
    assert not (tmp_path / "index.html").exists()


def test_a_short_or_missing_source_fails_by_clip_and_file(tmp_path: Path):
    case = write_case(tmp_path / "case")
    media = demo_media(case)
    episode = media / "11_ep01_l1.mp4"
    short = tmp_path / "short.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(episode), "-t", "7.5", "-c", "copy",
                    str(short)], check=True)
    short.replace(episode)
    out = tmp_path / "out" / "v.mp4"
    run = run_vss("render", case.script, "--media", media, "--out", out)
    assert run.returncode == 2 and run.stdout == "", run.stdout
    (line,) = run.stderr.strip().splitlines()[-1:]
    assert line.startswith("vss render: segment 2 key line 3 (scene 2, episode 1) needs "
                           "00:00:08.000-00:00:08.800 of 11_ep01_l1.mp4, which is only 7.5")
    (media / "13_ep02_l1.mp4").unlink()
    run = run_vss("render", case.script, "--media", media, "--out", out)
    assert run.returncode == 2
    assert "segment 1 clip 2 (scene 3, episode 2): no media file for episode 2" in run.stderr
    assert not out.exists()


def test_demo_media_lasts_each_episode_and_shows_its_frames(tmp_path: Path):
    case = write_case(tmp_path / "case")
    media = demo_media(case)
    assert sorted(p.name for p in media.iterdir()) == ["11_ep01_l1.mp4", "13_ep02_l1.mp4"]
    ep1 = _probe(media / "11_ep01_l1.mp4")
    assert float(ep1["video"]["duration"]) == pytest.approx(12.0 + 2.0, abs=0.05)
    assert ep1["audio"]["codec_name"] == "aac"
    timeline = build_timeline(load_script(case.script.read_bytes()))
    assert timeline.total_frames == 111  # the case the renderer tests use fits this media


def test_a_source_at_another_frame_rate_is_put_on_the_timeline_grid(tmp_path: Path):
    case = write_case(tmp_path / "case")
    media = demo_media(case)
    run = run_vss("demo-media", case.dataset, "--out", media, "--size", "480x360", "--fps", "50",
                  "--chapters", "2")  # episode 2 again: 50 fps, 4:3
    assert run.returncode == 0, run.stderr
    out = tmp_path / "mixed.mp4"
    run = run_vss("render", case.script, "--media", media, "--out", out, "--no-review")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "check cuts: 9 of 9 clip edges on their frame OK" in run.stdout
    output, ep2 = _frames(out), _frames(media / "13_ep02_l1.mp4")
    # timeline frame 30 is episode 2's 25 fps frame 7, which is its 50 fps frame 14
    distance = {f: np.abs(output[30] - ep2[f]).mean() for f in range(11, 18)}
    assert min(distance, key=distance.__getitem__) == 14


def _spoil(good: Path, out: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(good), *args, str(out)], check=True)
    return out


def test_the_self_check_finds_what_a_bad_render_gets_wrong(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch):
    """The render's own check, and the same check of any file against the sources
    (`check_cuts`), on renders gone wrong three ways: every clip read a frame late, two frames
    lost, the sound 6 dB too loud."""
    case = write_case(tmp_path / "case")
    media = demo_media(case)
    timeline = build_timeline(load_script(case.script.read_bytes()))
    paths = [media / ("11_ep01_l1.mp4" if c.chapter_id == 1 else "13_ep02_l1.mp4")
             for c in timeline.clips]
    fmt = OutputFormat(320, 180, timeline.fps)
    quiet = Console(stderr=True, quiet=True)
    good = tmp_path / "good.mp4"
    assert render(case.script, RenderOptions(media_dir=media, out=good, subtitles=False,
                                             console=quiet)).ok

    # A seek a frame late: the render's check picks its reference frames from the same
    # decode, but by their own timestamps, so the cut it relies on shows.
    with monkeypatch.context() as patch:
        seek = Timeline.seek_seconds
        patch.setattr(Timeline, "seek_seconds", lambda self, frame: seek(self, frame + 1))
        late = render(case.script, RenderOptions(media_dir=media, out=tmp_path / "late.mp4",
                                                 subtitles=False, console=quiet))
    assert late.duration_check.ok and late.loudness.ok and not late.ok
    assert [(c.status, c.offset) for c in late.cut_checks] == [("off", 1)] * 9
    assert [(c.status, c.offset) for c in check_cuts(timeline, tmp_path / "late.mp4", paths,
                                                     fmt)] == [("off", 1)] * 9

    lost = _spoil(good, tmp_path / "lost.mp4", "-vf", "select='not(between(n,60,61))',"
                  "setpts=N/25/TB", "-c:a", "copy")
    duration = check_duration(timeline, lost)
    assert not duration.ok and duration.video_frames == 109
    key_line = [c for c in check_cuts(timeline, lost, paths, fmt) if c.clip == 4]
    # timeline frames 91-110 now show what was at 93-112: the last is not there at all
    assert [(c.status, c.offset, c.difference is None) for c in key_line] == [
        ("off", 2, False), ("off", 0, True)]

    loud = _spoil(good, tmp_path / "loud.mp4", "-c:v", "copy", "-af", "volume=6dB")
    loudness = check_loudness(loud)
    assert not loudness.ok and loudness.integrated_lufs == pytest.approx(-10, abs=1)
    assert check_duration(timeline, loud).ok
    assert cuts_summary(check_cuts(timeline, loud, paths, fmt)).ok
