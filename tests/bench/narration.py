"""Narration's non-LLM work (normalise, plan, pace, offline write) on the real blueprint and
on generated datasets up to 5,000 scenes; prints time, peak memory and time per scene so
the growth (it should be linear) is visible, and what each narrative focus costs. Measures,
never asserts.

Named figures go to build/bench.json (`tests.support.bench_figures`), each with the load
average, one per measurement printed; `<n>` is a generated dataset's scenes, or `blueprint`
for the real one: `narration.normalise_seconds_<n>` and `narration.write_seconds_<n>` (best
of 3, wall time, with that run's CPU time), `narration.normalise_peak_mib_<n>` and
`narration.write_peak_mib_<n>` (traced in one more run), `narration.us_per_scene_<n>`,
`narration.growth_<smallest>_to_<largest>` and `narration.peak_growth_<smallest>_to_<largest>`
(time and normalise peak, largest over smallest), and `narration.focus_<focus>_seconds_<n>`
(an offline narration under each narrative focus, on the real blueprint and the largest).
Run: `python -m tests.bench.narration` (no emulator needed); `--help` for other sizes.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.support.bench_figures import OUTPUT, describe, figure, record
from tests.support.paths import BLUEPRINT
from tests.support.synthetic import synthetic_blueprint
from vss.domain.dataset import parse_dataset
from vss.domain.payloads import NarrationServiceParams, NarrativeFocus
from vss.narration.compose import narrate

SIZES = (500, 1_000, 2_000, 5_000)
RUNS = 3
BLUEPRINT_MINUTES = 10
SCENES_PER_MINUTE = 25  # a generated dataset's target duration: one minute per 25 scenes

Figures = dict[str, dict[str, Any]]


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one run."""
    started, cpu_started = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - started, time.process_time() - cpu_started


def _measure(work: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """(best wall seconds of `runs`, that run's CPU seconds, peak traced MiB of one more)."""
    best, cpu = min(_timed(work) for _ in range(runs))
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, cpu, peak / 2**20


def bench(label: str, key: str, raw: bytes, minutes: float, runs: int = RUNS
          ) -> tuple[dict[str, Any], Figures]:
    """A row of the table, and its figures named after `key` (each taken as its measurement
    ends)."""
    params = NarrationServiceParams.model_validate(
        {"lang": "zh", "control_params": {"target_duration_minutes": minutes}})
    dataset = parse_dataset(raw)
    scenes = len(dataset.scenes)
    figures: Figures = {}
    normalise, normalise_cpu, normalise_mib = _measure(lambda: parse_dataset(raw), runs)
    figures[f"narration.normalise_seconds_{key}"] = figure(
        round(normalise, 4), "s", cpu_seconds=round(normalise_cpu, 4), scenes=scenes)
    figures[f"narration.normalise_peak_mib_{key}"] = figure(round(normalise_mib, 1), "MiB")
    write, write_cpu, write_mib = _measure(lambda: narrate(dataset, params, None), runs)
    figures[f"narration.write_seconds_{key}"] = figure(
        round(write, 4), "s", cpu_seconds=round(write_cpu, 4), scenes=scenes)
    figures[f"narration.write_peak_mib_{key}"] = figure(round(write_mib, 1), "MiB")
    row = {"dataset": label, "scenes": scenes, "mib_json": round(len(raw) / 2**20, 2),
           "normalise_s": round(normalise, 4), "normalise_peak_mib": round(normalise_mib, 1),
           "plan_pace_write_s": round(write, 4), "write_peak_mib": round(write_mib, 1),
           "us_per_scene": round((normalise + write) / scenes * 1e6, 1)}
    figures[f"narration.us_per_scene_{key}"] = figure(row["us_per_scene"], "µs")
    return row, figures


def run(sizes: Sequence[int] = SIZES, runs: int = RUNS) -> tuple[list[dict[str, Any]], Figures]:
    """The rows of the table (the real blueprint, then `sizes` in order) and their figures,
    with the growth from the smallest size to the largest."""
    row, figures = bench("real blueprint", "blueprint", BLUEPRINT.read_bytes(),
                         BLUEPRINT_MINUTES, runs)
    rows = [row]
    for n in sizes:
        row, measured = bench(f"generated {n}", str(n), synthetic_blueprint(n),
                              n / SCENES_PER_MINUTE, runs)
        rows.append(row)
        figures.update(measured)
    small, large = rows[1], rows[-1]
    span = f"{small['scenes']}_to_{large['scenes']}"
    figures[f"narration.growth_{span}"] = figure(round(growth(small, large), 1), "x")
    figures[f"narration.peak_growth_{span}"] = figure(
        round(large["normalise_peak_mib"] / small["normalise_peak_mib"], 1), "x")
    return rows, figures


def growth(small: dict[str, Any], large: dict[str, Any]) -> float:
    """How much longer the largest dataset's normalise and write took than the smallest's."""
    return ((large["normalise_s"] + large["plan_pace_write_s"])
            / (small["normalise_s"] + small["plan_pace_write_s"]))


def focus_costs(raw: bytes, minutes: float, runs: int = RUNS) -> dict[str, float]:
    """Seconds (best of `runs`) of an offline narration under each narrative focus: what
    reading a focus (keywords, moods, the couple) adds to the general narration."""
    dataset = parse_dataset(raw)
    costs = {}
    for focus in NarrativeFocus:
        control: dict[str, Any] = {"target_duration_minutes": minutes, "narrative_focus": focus}
        if focus == NarrativeFocus.CUSTOM:
            control["custom_prompts"] = {"narrative_focus": "爷爷催婚，逼着孙子去相亲"}
        params = NarrationServiceParams.model_validate({"lang": "zh",
                                                        "control_params": control})
        costs[focus.value] = round(min(_timed(lambda p=params: narrate(dataset, p, None))[0]
                                       for _ in range(runs)), 3)
    return costs


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.narration",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="generated datasets' scenes, two at least; each narrative focus "
                             "is timed on the largest (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=RUNS,
                        help="runs per measurement, the best kept (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes))
    if len(sizes) < 2 or sizes[0] < 1:
        parser.error("--sizes needs two sizes at least, each of one scene or more")
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    figures: Figures = {}
    for label, key, raw, minutes in (
            ("real blueprint", "blueprint", BLUEPRINT.read_bytes(), BLUEPRINT_MINUTES),
            (f"generated {sizes[-1]}", str(sizes[-1]), synthetic_blueprint(sizes[-1]),
             sizes[-1] / SCENES_PER_MINUTE)):
        costs = focus_costs(raw, minutes, args.runs)
        for focus, seconds in costs.items():
            figures[f"narration.focus_{focus}_seconds_{key}"] = figure(seconds, "s")
        print(f"narration by focus, {label} (s): {costs}")
    rows, measured = run(sizes, args.runs)
    figures.update(measured)
    print(f"narration, non-LLM work (best of {args.runs}; peak memory traced separately)")
    print(f"{'dataset':<16}{'scenes':>7}{'JSON MiB':>9}{'normalise s':>12}{'peak MiB':>9}"
          f"{'write s':>9}{'peak MiB':>9}{'µs/scene':>10}")
    for r in rows:
        print(f"{r['dataset']:<16}{r['scenes']:>7}{r['mib_json']:>9}{r['normalise_s']:>12}"
              f"{r['normalise_peak_mib']:>9}{r['plan_pace_write_s']:>9}{r['write_peak_mib']:>9}"
              f"{r['us_per_scene']:>10}")
    small, large = rows[1], rows[-1]
    scenes = large["scenes"] / small["scenes"]
    print(f"growth {small['scenes']} → {large['scenes']} scenes (x{scenes:.0f}): time "
          f"x{growth(small, large):.1f}, peak memory "
          f"x{large['normalise_peak_mib'] / small['normalise_peak_mib']:.1f} "
          f"(linear would be x{scenes:.0f})")
    for name, value in figures.items():
        print(describe(name, value))
    record(figures, args.output)
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
