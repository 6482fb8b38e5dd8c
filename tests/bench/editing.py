"""The editing solver on the real blueprint (the edge's dubbing script) and on generated
scripts of 100 to 10,000 segments: time per phase, peak memory and time per segment, so the
growth (it should be linear) is visible; and the four exports (OTIO, FCPXML, FCP 7 XML, EDL)
together, up to 1,000 segments. Measures, never asserts.

Named figures go to build/bench.json (`tests.support.bench_figures`), each with the load
average: `editing.seconds_<smallest>` and `editing.seconds_<largest>` (prepare, rank, solve
and validate, wall time; best of 3 runs; with that run's CPU time, which other work on the
machine changes less), `editing.growth_<smallest>_to_<largest>`
(their ratio) and `exports.seconds_<n>` (all four formats of n segments, best of 3).
Run: `python -m tests.bench.editing` (no emulator needed); `--help` for other sizes.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.support.bench_figures import OUTPUT, figure, record
from tests.support.editing import edge_copy
from tests.support.paths import BLUEPRINT
from tests.support.synthetic import synthetic_blueprint
from vss.domain.artifacts import DubbingScript
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import EditingServiceParams
from vss.editing import collector_paused
from vss.editing.exports import export_files
from vss.editing.report import validate
from vss.editing.script import build_editing_script, deterministic_rankings, prepare

SIZES = (100, 1_000, 10_000)
EXPORTS_AT = 1_000
# Runs per size, the best one kept, as timeit does: the machine's other work only ever slows a
# run, and it disturbed single runs of 10,000 segments by a tenth and more.
REPEATS = 3
SCENES_PER_SEGMENT = 2


def generated(segments: int) -> tuple[Dataset, DubbingScript]:
    """30 s scenes of 8 lines; each segment cites two scenes and speaks 8-24 s."""
    dataset = parse_dataset(synthetic_blueprint(segments * SCENES_PER_SEGMENT))
    rng = random.Random(segments)
    items = [{"narration": f"第{2 * i + 1}场，林夏发现了陈默隐瞒的秘密，两人在雨夜里争吵。",
              "source_scene_ids": [2 * i + 1, 2 * i + 2],
              "duration_seconds": round(rng.uniform(8, 24), 3),
              "audio_file_path": f"tasks/bench/dubbing/narration_{i:05d}.wav"}
             for i in range(segments)]
    return dataset, DubbingScript.model_validate(
        {"dubbing_script": items, "total_duration": sum(i["duration_seconds"] for i in items)})


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def _once(dataset: Dataset, dubbing: DubbingScript, params: EditingServiceParams
          ) -> dict[str, Any]:
    # As the stage runs the steps: under one pause of the collector (vss.handlers.editing).
    with collector_paused():
        cpu_started = time.process_time()
        prepare_s, prepared = _timed(lambda: prepare(dubbing, dataset, params))
        rank_s, rankings = _timed(lambda: deterministic_rankings(prepared, dubbing))
        solve_s, (script, _) = _timed(lambda: build_editing_script(
            dubbing, dataset, params, prepared, rankings, "deterministic"))
        validate_s, report = _timed(lambda: validate(script, dubbing, dataset, params))
        cpu_s = time.process_time() - cpu_started
    return {"prepare_s": prepare_s, "rank_s": rank_s, "solve_s": solve_s,
            "validate_s": validate_s, "total_s": prepare_s + rank_s + solve_s + validate_s,
            "cpu_s": cpu_s, "script": script, "report": report}


def bench(label: str, dataset: Dataset, dubbing: DubbingScript, exports: bool,
          runs: int = 1) -> dict[str, Any]:
    params = EditingServiceParams()
    best = min((_once(dataset, dubbing, params) for _ in range(runs)),
               key=lambda run: run["total_s"])
    script, report = best.pop("script"), best.pop("report")
    export_s = min(_timed(lambda: export_files(script, dataset, label))[0]
                   for _ in range(runs)) if exports else None

    def everything() -> None:
        ready = prepare(dubbing, dataset, params)
        built, _ = build_editing_script(dubbing, dataset, params, ready,
                                        deterministic_rankings(ready, dubbing), "deterministic")
        validate(built, dubbing, dataset, params)

    tracemalloc.start()
    everything()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    segments = len(dubbing.dubbing_script)
    return {"case": label, "segments": segments, "scenes": len(dataset.scenes),
            "clips": report.clip_lengths.clips, **best, "export_s": export_s,
            "peak_mib": peak / 2**20, "us_per_segment": best["total_s"] / segments * 1e6,
            "ok": report.ok, "max_error_frames": report.max_coverage_error_frames}


def run(sizes: Sequence[int] = SIZES, exports_at: int = EXPORTS_AT
        ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The rows of the table, and the named figures (each taken as its measurement ends)."""
    rows = [bench("real blueprint", parse_dataset(BLUEPRINT.read_bytes()),
                  DubbingScript.model_validate(edge_copy()), exports=True, runs=REPEATS)]
    figures: dict[str, dict[str, Any]] = {}
    small, large = min(sizes), max(sizes)
    for size in sizes:
        dataset, dubbing = generated(size)
        row = bench(f"generated {size}", dataset, dubbing, exports=size <= exports_at,
                    runs=REPEATS)
        rows.append(row)
        if size in (small, large):
            figures[f"editing.seconds_{size}"] = figure(round(row["total_s"], 3), "s",
                                                        cpu_seconds=round(row["cpu_s"], 3))
        if size == exports_at:
            figures[f"exports.seconds_{size}"] = figure(round(row["export_s"], 3), "s")
    totals = {row["segments"]: row["total_s"] for row in rows[1:]}
    figures[f"editing.growth_{small}_to_{large}"] = figure(
        round(totals[large] / totals[small], 1), "x")
    return rows, figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.editing",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="generated scripts' segments (default: %(default)s)")
    parser.add_argument("--exports-at", type=int, default=EXPORTS_AT,
                        help="time the exports up to this many segments and name the figure "
                             "after it; one of --sizes (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    args = parser.parse_args(argv)
    if args.exports_at not in args.sizes:
        parser.error("--exports-at must be one of --sizes")
    rows, figures = run(sorted(args.sizes), args.exports_at)
    print("editing solver, deterministic ranking (best of 3; peak memory traced separately)")
    header = (f"{'case':<18}{'segments':>9}{'clips':>7}{'prepare s':>10}{'rank s':>8}"
              f"{'solve s':>9}{'check s':>8}{'export s':>9}{'peak MiB':>9}{'µs/seg':>9}"
              f"{'err fr':>7}{'ok':>4}")
    print(header)
    for r in rows:
        export = f"{r['export_s']:.3f}" if r["export_s"] is not None else "-"
        print(f"{r['case']:<18}{r['segments']:>9}{r['clips']:>7}{r['prepare_s']:>10.3f}"
              f"{r['rank_s']:>8.3f}{r['solve_s']:>9.3f}{r['validate_s']:>8.3f}{export:>9}"
              f"{r['peak_mib']:>9.1f}{r['us_per_segment']:>9.0f}"
              f"{r['max_error_frames']:>7.2f}{'yes' if r['ok'] else 'NO':>4}")
    small, large = rows[1], rows[-1]
    factor = large["segments"] / small["segments"]
    print(f"growth {small['segments']} → {large['segments']} segments (x{factor:.0f}): "
          f"time x{large['total_s'] / small['total_s']:.1f}, "
          f"peak memory x{large['peak_mib'] / small['peak_mib']:.1f} "
          f"(linear would be x{factor:.0f})")
    for name, value in figures.items():
        cpu = f", {value['cpu_seconds']} s of CPU" if "cpu_seconds" in value else ""
        print(f"{name} = {value['value']} {value['unit']}{cpu} (load average "
              f"{', '.join(f'{x:.2f}' for x in value['load_average'])} on {value['cores']} cores)")
    record(figures, args.output)
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
