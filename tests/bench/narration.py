"""Narration's non-LLM work (normalise, plan, pace, offline write) on the real blueprint and
on generated datasets up to 5,000 scenes; prints time, peak memory and time per scene so
the growth (it should be linear) is visible. Run: `python -m tests.bench.narration`."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vss.domain.dataset import parse_dataset
from vss.domain.payloads import NarrationServiceParams
from vss.narration.compose import narrate

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = ROOT / "examples" / "blueprint_contract_girlfriend.json"
SIZES = (500, 1_000, 2_000, 5_000)


def _tc(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def synthetic_blueprint(scenes: int, per_episode: int = 20) -> bytes:
    """A blueprint v2 with realistic text volume: 30 s scenes, 8 lines of dialogue each."""
    chapters: dict[str, Any] = {}
    body: dict[str, Any] = {}
    for sid in range(1, scenes + 1):
        chapter = (sid - 1) // per_episode + 1
        start = ((sid - 1) % per_episode) * 30.0
        chapters.setdefault(str(chapter), {"id": chapter, "name": f"第{chapter}集",
                                           "source_file": f"ep{chapter:03d}.mp4",
                                           "scene_ids": []})["scene_ids"].append(sid)
        body[str(sid)] = {
            "id": sid, "chapter_id": chapter, "start_time": _tc(start),
            "end_time": _tc(start + 30.0),
            "character_dynamics": f"第{sid}场，林夏发现了陈默隐瞒的秘密。两人在雨夜里争吵，"
                                  f"最后林夏决定独自离开这座城市。",
            "dialogues": [{"content": f"这是第{sid}场的第{k}句台词，你到底在瞒着我什么",
                           "speaker": "林夏" if k % 2 else "陈默",
                           "start_time": _tc(start + k * 3), "end_time": _tc(start + k * 3 + 2)}
                          for k in range(8)],
            "captions": [], "highlights": [], "mood_and_atmosphere": "Tense",
            "scene_content_type": "Dialogue_Heavy",
        }
    sequence = {str(i): {"narrative_index": i} for i in range(1, scenes + 1)}
    return json.dumps({"project_metadata": {"project_name": "bench"}, "chapters": chapters,
                       "scenes": body, "narrative_timeline": {"type": "linear",
                                                              "sequence": sequence}},
                      ensure_ascii=False).encode()


def _measure(work: Callable[[], object]) -> tuple[float, float]:
    """(best wall seconds of 3, peak traced MiB of one more run)."""
    best = min(_timed(work) for _ in range(3))
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20


def _timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def bench(label: str, raw: bytes, minutes: float) -> dict[str, Any]:
    params = NarrationServiceParams.model_validate(
        {"lang": "zh", "control_params": {"target_duration_minutes": minutes}})
    dataset = parse_dataset(raw)
    normalise, normalise_mib = _measure(lambda: parse_dataset(raw))
    write, write_mib = _measure(lambda: narrate(dataset, params, None))
    scenes = len(dataset.scenes)
    return {"dataset": label, "scenes": scenes, "mib_json": round(len(raw) / 2**20, 2),
            "normalise_s": round(normalise, 4), "normalise_peak_mib": round(normalise_mib, 1),
            "plan_pace_write_s": round(write, 4), "write_peak_mib": round(write_mib, 1),
            "us_per_scene": round((normalise + write) / scenes * 1e6, 1)}


def run() -> list[dict[str, Any]]:
    rows = [bench("real blueprint", BLUEPRINT.read_bytes(), 10)]
    rows += [bench(f"generated {n}", synthetic_blueprint(n), n / 25) for n in SIZES]
    return rows


def main() -> None:
    rows = run()
    print("narration, non-LLM work (best of 3; peak memory traced separately)")
    print(f"{'dataset':<16}{'scenes':>7}{'JSON MiB':>9}{'normalise s':>12}{'peak MiB':>9}"
          f"{'write s':>9}{'peak MiB':>9}{'µs/scene':>10}")
    for r in rows:
        print(f"{r['dataset']:<16}{r['scenes']:>7}{r['mib_json']:>9}{r['normalise_s']:>12}"
              f"{r['normalise_peak_mib']:>9}{r['plan_pace_write_s']:>9}{r['write_peak_mib']:>9}"
              f"{r['us_per_scene']:>10}")


if __name__ == "__main__":
    main()
