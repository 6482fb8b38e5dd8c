"""A small render case: a two-episode blueprint, an editing script over it (every audio mode,
a freeze-frame, a key line) and narration WAVs, written without any subprocess; and `run_vss`,
the console script as a user runs it (integration tests only)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FPS = 25
# (scene, chapter, start, end) in seconds, relative to the episode file
SCENES = [(1, 1, 0.0, 6.0), (2, 1, 6.0, 12.0), (3, 2, 0.0, 5.0), (4, 2, 5.0, 10.0)]
SOURCE_FILES = {1: "11_ep01_l1.ass", 2: "13_ep02_l1.ass"}  # as real blueprints name them
# (segment, scene, chapter, source_in_frame, frames, audio_mode, gain, freeze, key line)
CLIPS = [
    (0, 1, 1, 13, 30, "ducked", -18.0, False, False),
    (0, 3, 2, 7, 20, "narration_only", None, False, False),
    (1, 2, 1, 170, 25, "ducked", -12.0, False, False),
    (1, 4, 2, 140, 16, "narration_only", None, True, False),
    (1, 2, 1, 200, 20, "original", 0.0, False, True),
]
VOICE_HZ = 120
NARRATION = ["她终于走进了那家咖啡店。命运的齿轮开始转动。", "他却浑然不知，只说了一句：“你来了。”"]


def _tc(frame: int, fps: float = FPS) -> str:
    ms = math.floor(frame * 1000 / fps)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def blueprint(scene_list: list[tuple[int, int, float, float]] = SCENES) -> dict[str, Any]:
    chapters: dict[str, Any] = {}
    scenes: dict[str, Any] = {}
    for scene_id, chapter, start, end in scene_list:
        chapters.setdefault(str(chapter), {
            "id": chapter, "name": f"第{chapter}集", "source_file": SOURCE_FILES[chapter],
            "scene_ids": []})["scene_ids"].append(scene_id)
        scenes[str(scene_id)] = {
            "id": scene_id, "chapter_id": chapter, "start_time": _tc(round(start * FPS)),
            "end_time": _tc(round(end * FPS)), "dialogues": [], "captions": [],
            "highlights": [], "mood_and_atmosphere": "Tense"}
    return {"project_metadata": {"project_name": "render-case"}, "chapters": chapters,
            "scenes": scenes,
            "narrative_timeline": {"type": "linear", "sequence": {
                str(s[0]): {"narrative_index": i} for i, s in enumerate(scene_list, 1)}}}


def speech_wav(path: Path, seconds: float, rate: int = 24_000, seed: int = 0) -> None:
    """A voice-like mono WAV: a 120 Hz buzz with harmonics (none near the demo media's tones of
    275 and 330 Hz), a syllable envelope, slight noise."""
    t = np.arange(round(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * VOICE_HZ * k * t) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    noise = np.random.default_rng(seed).normal(0, 0.02, t.size)
    signal = 0.25 * voice * envelope + noise
    samples = np.clip(signal / np.max(np.abs(signal)) * 0.6, -1, 1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((samples * 32767).astype("<i2").tobytes())


@dataclass(frozen=True)
class Case:
    folder: Path
    script: Path
    dataset: Path
    dubbing: Path
    total_frames: int


def editing_script(seed_fields_only: bool = False, fps: float = FPS) -> dict[str, Any]:
    """The editing stage's shape; `seed_fields_only` keeps only what the seed's script had."""
    segments: list[dict[str, Any]] = []
    cursor = 0
    for index, text in enumerate(NARRATION):
        clips = [c for c in CLIPS if c[0] == index and not c[8]]
        keys = [c for c in CLIPS if c[0] == index and c[8] and not seed_fields_only]
        frames = sum(c[4] for c in clips)
        entries = []
        for group in (clips, keys):
            out = []
            for _, scene, chapter, source_in, count, mode, gain, freeze, _key in group:
                clip: dict[str, Any] = {
                    "scene_id": scene, "chapter_id": chapter,
                    "start_time": _tc(source_in, fps), "end_time": _tc(source_in + count, fps),
                    "duration": round(count / fps, 6)}
                if not seed_fields_only:
                    clip.update(source_file=SOURCE_FILES[chapter], frames=count,
                                source_in_frame=source_in, timeline_start_frame=cursor,
                                audio_mode=mode, source_gain_db=gain, freeze_frame=freeze,
                                reason=f"scene {scene} for the test")
                cursor += count
                out.append(clip)
            entries.append(out)
        segment: dict[str, Any] = {
            "narration": text, "narration_duration": round(frames / fps, 6),
            "narration_audio_path": f"tasks/t1/dubbing/seg_{index:04d}.wav",
            "b_roll_clips": entries[0]}
        if not seed_fields_only:
            segment.update(key_lines=entries[1], index=index, narration_frames=frames)
        segments.append(segment)
    return {"editing_script": segments, "fps": fps,
            "total_duration": sum(s["narration_duration"] for s in segments),
            **({} if seed_fields_only else {"total_frames": cursor})}


def write_case(folder: Path, seed_fields_only: bool = False, fps: float = FPS) -> Case:
    folder.mkdir(parents=True, exist_ok=True)
    script = editing_script(seed_fields_only, fps)
    for index, segment in enumerate(script["editing_script"]):
        speech_wav(folder / f"seg_{index:04d}.wav", segment["narration_duration"], seed=index)
    (folder / "editing_script.json").write_text(json.dumps(script, ensure_ascii=False))
    (folder / "dataset.json").write_text(json.dumps(blueprint(), ensure_ascii=False))
    dubbing = {"dubbing_script": [
        {"narration": s["narration"], "source_scene_ids": [1], "duration_seconds":
         s["narration_duration"], "audio_file_path": s["narration_audio_path"],
         "fit": {"slot_seconds": s["narration_duration"], "slot_source": "budget",
                 "raw_duration_seconds": s["narration_duration"], "tempo": 1.0,
                 "action": "fits"},
         "loudness": {"lufs": -16.0, "true_peak_dbtp": -1.5}}
        for s in script["editing_script"]], "total_duration": script["total_duration"]}
    (folder / "dubbing_script.json").write_text(json.dumps(dubbing, ensure_ascii=False))
    total = sum(c[4] for c in CLIPS if not (c[8] and seed_fields_only))
    return Case(folder, folder / "editing_script.json", folder / "dataset.json",
                folder / "dubbing_script.json", total)


VSS = Path(sys.executable).parent / "vss"


def run_vss(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`vss ARGS` in a subprocess, with this checkout's code first on the path."""
    return subprocess.run([str(VSS), *map(str, args)], capture_output=True, text=True,
                          timeout=240, cwd=cwd, env=dict(os.environ), check=False)


def demo_media(case: Case, fps: str = "25", *, cut_only: bool = False) -> Path:
    """The case's episodes at 320x180: whole, or (`cut_only`) only the ranges its script
    reads, in `media` or `media-cut`."""
    media = case.folder / ("media-cut" if cut_only else "media")
    cut = ["--editing-script", case.script] if cut_only else []
    run = run_vss("demo-media", case.dataset, "--out", media, "--size", "320x180", "--fps", fps,
                  *cut)
    assert run.returncode == 0, run.stderr
    return media


def write_exports(case: Case) -> Path:
    """The editing stage's four timeline exports of the case, beside its script under the
    names `vss run` downloads them by; the OTIO timeline's path."""
    from vss.domain.artifacts import EditingScript
    from vss.domain.dataset import parse_dataset
    from vss.editing.exports import export_files

    script = EditingScript.model_validate_json(case.script.read_bytes())
    dataset = parse_dataset(case.dataset.read_bytes())
    for export in export_files(script, dataset, "render case"):
        (case.folder / export.name.rsplit("/", 1)[-1]).write_bytes(export.data)
    return case.folder / "timeline.otio"


def render_report(video: Path) -> dict[str, Any]:
    """The report `vss render` wrote beside a video (`<video>.render.json`)."""
    report: dict[str, Any] = json.loads(
        video.with_name(video.stem + ".render.json").read_text(encoding="utf-8"))
    return report


def cut_frames(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    """A render report's cut checks: each clip edge's timeline frame, the source frame it
    should show, and what the check found there."""
    return [(c["clip"], c["side"], c["timeline_frame"], c["source_frame"], c["status"],
             c["offset"]) for c in report["cut_checks"]]

