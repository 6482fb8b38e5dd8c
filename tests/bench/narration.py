"""Narration's non-LLM work (normalise, plan, pace, offline write) on the real blueprint and
on generated datasets up to 5,000 scenes; prints time, peak memory and time per scene so
the growth (it should be linear) is visible, and what each narrative focus costs. Run:
`python -m tests.bench.narration`."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.synthetic import synthetic_blueprint
from vss.domain.dataset import parse_dataset
from vss.domain.payloads import NarrationServiceParams, NarrativeFocus
from vss.narration.compose import narrate

ROOT = Path(__file__).resolve().parents[2]
BLUEPRINT = ROOT / "examples" / "blueprint_contract_girlfriend.json"
SIZES = (500, 1_000, 2_000, 5_000)


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


def focus_costs(raw: bytes, minutes: float) -> dict[str, float]:
    """Seconds (best of 3) of an offline narration under each narrative focus: what reading a
    focus (keywords, moods, the couple) adds to the general narration."""
    dataset = parse_dataset(raw)
    costs = {}
    for focus in NarrativeFocus:
        control: dict[str, Any] = {"target_duration_minutes": minutes, "narrative_focus": focus}
        if focus == NarrativeFocus.CUSTOM:
            control["custom_prompts"] = {"narrative_focus": "爷爷催婚，逼着孙子去相亲"}
        params = NarrationServiceParams.model_validate({"lang": "zh",
                                                        "control_params": control})
        costs[focus.value] = round(min(_timed(lambda p=params: narrate(dataset, p, None))
                                       for _ in range(3)), 3)
    return costs


def main() -> None:
    for label, raw, minutes in (("real blueprint", BLUEPRINT.read_bytes(), 10),
                                ("generated 5000", synthetic_blueprint(5_000), 200)):
        print(f"narration by focus, {label} (s): {focus_costs(raw, minutes)}")
    rows = run()
    print("narration, non-LLM work (best of 3; peak memory traced separately)")
    print(f"{'dataset':<16}{'scenes':>7}{'JSON MiB':>9}{'normalise s':>12}{'peak MiB':>9}"
          f"{'write s':>9}{'peak MiB':>9}{'µs/scene':>10}")
    for r in rows:
        print(f"{r['dataset']:<16}{r['scenes']:>7}{r['mib_json']:>9}{r['normalise_s']:>12}"
              f"{r['normalise_peak_mib']:>9}{r['plan_pace_write_s']:>9}{r['write_peak_mib']:>9}"
              f"{r['us_per_scene']:>10}")
    small, large = rows[1], rows[-1]
    scenes = large["scenes"] / small["scenes"]
    work = ((large["normalise_s"] + large["plan_pace_write_s"])
            / (small["normalise_s"] + small["plan_pace_write_s"]))
    print(f"growth {small['scenes']} → {large['scenes']} scenes (x{scenes:.0f}): time x{work:.1f}, "
          f"peak memory x{large['normalise_peak_mib'] / small['normalise_peak_mib']:.1f} "
          f"(linear would be x{scenes:.0f})")


if __name__ == "__main__":
    main()
