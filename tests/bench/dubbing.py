"""Dubbing benchmarks (no stack needed): measures and prints, never asserts.

(b) post-processing speed, in times real time: decode, resample to 48 kHz, trim, loudness
    normalisation with true-peak limiting, encode (in process); and FFmpeg's atempo (the fit
    step, a subprocess) on the same audio.
(c) each offline engine's real-time factor (synthesis seconds per second of speech; < 1 is
    faster than real time) and peak memory, each engine in a fresh process so its peak is its
    own.

Named figures go to build/bench.json (`tests.support.bench_figures`), each with the load
average, one per measurement printed: `dubbing.<step>_seconds` and `dubbing.<step>_x_real_time`
for each post-processing step (`decode_resample_trim`, `normalise_limit`, `encode`,
`postprocess` for the three in process together, `atempo`; medians), and for each engine
(`kokoro`, `espeak_ng`) `dubbing.<engine>_load_seconds`, `dubbing.<engine>_peak_rss_mib` and
`dubbing.<engine>_rtf_<lang>` (`zh`, `en`), taken in the engine's own process.
Run: `python -m tests.bench.dubbing` (no emulator needed); `--help` for a shorter run (less
audio, fewer runs, Kokoro skipped). An engine that fails is printed, and the run exits 1 once
the other figures are written.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.support.bench_figures import OUTPUT, describe, figure, load_average, peak_rss_mib, record
from tests.support.paths import ROOT

RUNS = 3
AUDIO_SECONDS = 60.0
ENGINES = ("kokoro", "espeak-ng")
# The figures' names for the post-processing steps as the report prints them.
STEPS = {"decode+resample+trim": "decode_resample_trim", "normalise+limit": "normalise_limit",
         "encode": "encode", "total in process": "postprocess", "ffmpeg atempo": "atempo"}
TEXTS = {
    "zh": "车小小走进咖啡厅，一眼就看见了坐在窗边的楚昊轩，心里咯噔一下。她强装镇定，慢慢走了过去。"
          "楚昊轩递上名片，她这才发现，眼前的相亲对象竟是自己公司新上任的总裁。",
    "en": "She walks into the cafe and sees him by the window, and her heart skips a beat. "
          "She keeps calm and walks over. He hands her his card, and only then does she "
          "realise that her blind date is the new president of her own company.",
}


def _speechlike(seconds: float) -> bytes:
    from tests.support.speechlike import speech_like_samples

    line = TEXTS["zh"]
    pieces = []
    total = 0.0
    while total < seconds:
        piece = speech_like_samples(line, "zh", sample_rate=24_000, level=0.1)
        pieces.append(piece)
        total += piece.size / 24_000
    import numpy as np

    from vss.dubbing.audio import encode_wav

    return encode_wav(np.concatenate(pieces)[: int(seconds * 24_000)], 24_000)


def post_processing(audio_seconds: float = AUDIO_SECONDS, runs: int = RUNS) -> dict[str, Any]:
    """Medians of `runs` over `audio_seconds` of speech-like audio, with their figures (taken
    once the runs end)."""
    from vss.adapters.ffmpeg import FfmpegAudioTools
    from vss.dubbing import audio as post

    wav = _speechlike(audio_seconds)
    steps: dict[str, list[float]] = {key: [] for key in STEPS}
    for _ in range(runs):
        started = time.perf_counter()
        samples, rate = post.decode_wav(wav)
        samples = post.trim_silence(post.resample(samples, rate), post.SAMPLE_RATE)
        t1 = time.perf_counter()
        samples = post.normalize(samples, post.SAMPLE_RATE, target_lufs=-16, tolerance_lu=1,
                                 ceiling_dbtp=-1)
        t2 = time.perf_counter()
        out = post.encode_wav(samples)
        t3 = time.perf_counter()
        FfmpegAudioTools().change_tempo(out, 1.1)
        t4 = time.perf_counter()
        for key, seconds in zip(steps, (t1 - started, t2 - t1, t3 - t2, t3 - started, t4 - t3),
                                strict=True):
            steps[key].append(seconds)
    medians = {key: statistics.median(v) for key, v in steps.items()}
    figures = {}
    for key, seconds in medians.items():
        figures[f"dubbing.{STEPS[key]}_seconds"] = figure(
            round(seconds, 6), "s", audio_seconds=audio_seconds, runs=runs)
        figures[f"dubbing.{STEPS[key]}_x_real_time"] = figure(
            round(audio_seconds / seconds, 1), "x", audio_seconds=audio_seconds, runs=runs)
    return {"audio_seconds": audio_seconds, "runs": runs, "steps": {
        key: {"seconds": round(seconds, 3), "x_real_time": round(audio_seconds / seconds, 1)}
        for key, seconds in medians.items()}, "figures": figures}


def _engine(name: str) -> Any:
    from vss.adapters.espeak import EspeakSpeechEngine
    from vss.adapters.kokoro import KokoroSpeechEngine

    if name == "kokoro":
        return KokoroSpeechEngine(Path(tempfile.gettempdir()) / "vss-kokoro")
    return EspeakSpeechEngine()


def _slug(engine: str) -> str:
    return engine.replace("-", "_")


def engine_figures(name: str) -> dict[str, Any]:
    """Runs in the child process: load, then each language twice (the second is measured).
    Its figures are taken here, each as its measurement ends."""
    from vss.ports import SpeechRequest

    started = time.perf_counter()
    engine = _engine(name)
    engine.speak(SpeechRequest(text="你好。", lang="zh"))  # loads the model
    load = time.perf_counter() - started
    slug = _slug(name)
    figures = {f"dubbing.{slug}_load_seconds": figure(round(load, 2), "s")}
    rows = {}
    for lang, text in TEXTS.items():
        engine.speak(SpeechRequest(text=text, lang=lang))
        began = time.perf_counter()
        speech = engine.speak(SpeechRequest(text=text, lang=lang))
        seconds = time.perf_counter() - began
        rows[lang] = {"audio_seconds": round(speech.duration_seconds, 2),
                      "synthesis_seconds": round(seconds, 3),
                      "rtf": round(seconds / speech.duration_seconds, 3)}
        figures[f"dubbing.{slug}_rtf_{lang}"] = figure(
            rows[lang]["rtf"], "x", audio_seconds=rows[lang]["audio_seconds"],
            synthesis_seconds=rows[lang]["synthesis_seconds"])
    peak = peak_rss_mib()  # espeak-ng runs as a child process: counted with it
    figures[f"dubbing.{slug}_peak_rss_mib"] = figure(round(peak, 1), "MiB")
    return {"engine": name, "load_seconds": round(load, 2), "peak_rss_mib": round(peak, 1),
            "languages": rows, "figures": figures}


def offline_engines(names: Sequence[str] = ENGINES) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        done = subprocess.run([sys.executable, "-m", "tests.bench.dubbing", "--engine", name],
                              cwd=ROOT, capture_output=True, text=True, timeout=600,
                              check=False)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")]
        if done.returncode != 0 or not lines:
            rows.append({"engine": name, "error": done.stderr[-500:]})
            continue
        rows.append(json.loads(lines[-1][len("BENCH "):]))
    return rows


def report(figures: dict[str, Any]) -> str:
    post = figures["post_processing"]
    lines = [f"(b) Post-processing {post['audio_seconds']:.0f} s of speech "
             f"(median of {post['runs']} runs)"]
    for key, row in post["steps"].items():
        lines.append(f"    {key:<22} {row['seconds']:>7.3f} s   {row['x_real_time']:>7.1f}x "
                     "real time")
    lines += ["", "(c) Offline engines, fresh process each (RTF: synthesis s / audio s)"]
    if not figures["offline_engines"]:
        lines.append("    none measured (--engines)")
    for row in figures["offline_engines"]:
        if "error" in row:
            lines.append(f"    {row['engine']:<10} failed: {row['error'][-200:]}")
            continue
        langs = "   ".join(f"{lang}: RTF {r['rtf']:.3f} ({r['audio_seconds']:.1f} s audio)"
                           for lang, r in row["languages"].items())
        lines.append(f"    {row['engine']:<10} load {row['load_seconds']:>5.2f} s   peak RSS "
                     f"{row['peak_rss_mib']:>6.1f} MiB   {langs}")
    before, after = figures["load_average_before"], figures["load_average_after"]
    lines.append(f"\n    1-minute load average: {before[0]:.2f} before, {after[0]:.2f} after "
                 f"({figures['cores']} cores)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.dubbing",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--audio-seconds", type=float, default=AUDIO_SECONDS,
                        help="speech post-processed (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=RUNS,
                        help="post-processing runs, the median kept (default: %(default)s)")
    parser.add_argument("--engines", nargs="*", choices=ENGINES, default=list(ENGINES),
                        help="offline engines measured, none for none; Kokoro takes a minute "
                             "or more (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    # What the benchmark runs in each engine's own process.
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine:
        print("BENCH " + json.dumps(engine_figures(args.engine)), flush=True)
        return
    if args.audio_seconds <= 0 or args.runs < 1:
        parser.error("--audio-seconds must be above 0 and --runs 1 or more")
    # Figures on a shared machine move with its load: it is printed beside them.
    measured = {"load_average_before": load_average(), "cores": os.cpu_count(),
                "post_processing": post_processing(args.audio_seconds, args.runs),
                "offline_engines": offline_engines(args.engines),
                "load_average_after": load_average()}
    print(report(measured))
    figures = dict(measured["post_processing"]["figures"])
    for row in measured["offline_engines"]:
        figures.update(row.get("figures", {}))
    print()
    for name, value in figures.items():
        print(describe(name, value))
    record(figures, args.output)
    print(f"figures written to {args.output}")
    if any("error" in row for row in measured["offline_engines"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
