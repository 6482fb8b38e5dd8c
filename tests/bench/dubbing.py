"""Dubbing benchmarks (no stack needed): measures and prints, never asserts.

(b) post-processing speed, in times real time: decode, resample to 48 kHz, trim, loudness
    normalisation with true-peak limiting, encode (in process); and FFmpeg's atempo (the fit
    step, a subprocess) on the same audio.
(c) each offline engine's real-time factor (synthesis seconds per second of speech; < 1 is
    faster than real time) and peak memory, each engine in a fresh process so its peak is its
    own. Run: `python -m tests.bench.dubbing`; figures also go to build/bench-dubbing.json.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "build" / "bench-dubbing.json"
RUNS = 3
AUDIO_SECONDS = 60.0
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


def post_processing() -> dict[str, Any]:
    from vss.adapters.ffmpeg import FfmpegAudioTools
    from vss.dubbing import audio as post

    wav = _speechlike(AUDIO_SECONDS)
    steps: dict[str, list[float]] = {"decode+resample+trim": [], "normalise+limit": [],
                                     "encode": [], "total in process": [], "ffmpeg atempo": []}
    for _ in range(RUNS):
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
    return {"audio_seconds": AUDIO_SECONDS, "runs": RUNS, "steps": {
        key: {"seconds": round(statistics.median(v), 3),
              "x_real_time": round(AUDIO_SECONDS / statistics.median(v), 1)}
        for key, v in steps.items()}}


def _engine(name: str) -> Any:
    from vss.adapters.espeak import EspeakSpeechEngine
    from vss.adapters.kokoro import KokoroSpeechEngine

    if name == "kokoro":
        return KokoroSpeechEngine(Path(tempfile.gettempdir()) / "vss-kokoro")
    return EspeakSpeechEngine()


def engine_figures(name: str) -> dict[str, Any]:
    """Runs in the child process: load, then each language twice (the second is measured)."""
    from vss.ports import SpeechRequest

    started = time.perf_counter()
    engine = _engine(name)
    engine.speak(SpeechRequest(text="你好。", lang="zh"))  # loads the model
    load = time.perf_counter() - started
    rows = {}
    for lang, text in TEXTS.items():
        engine.speak(SpeechRequest(text=text, lang=lang))
        began = time.perf_counter()
        speech = engine.speak(SpeechRequest(text=text, lang=lang))
        seconds = time.perf_counter() - began
        rows[lang] = {"audio_seconds": round(speech.duration_seconds, 2),
                      "synthesis_seconds": round(seconds, 3),
                      "rtf": round(seconds / speech.duration_seconds, 3)}
    # espeak-ng runs as a child process: its peak is counted with the interpreter's.
    peak = max(resource.getrusage(who).ru_maxrss
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    return {"engine": name, "load_seconds": round(load, 2), "peak_rss_mib": round(peak, 1),
            "languages": rows}


def offline_engines() -> list[dict[str, Any]]:
    rows = []
    for name in ("kokoro", "espeak-ng"):
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
                 f"({os.cpu_count()} cores)")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--engine"]:
        print("BENCH " + json.dumps(engine_figures(argv[1])), flush=True)
        return
    # Figures on a shared machine move with its load: it is printed beside them.
    figures = {"load_average_before": os.getloadavg(), "post_processing": post_processing(),
               "offline_engines": offline_engines(), "load_average_after": os.getloadavg()}
    print(report(figures))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nfigures written to {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
