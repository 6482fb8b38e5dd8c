"""The editing solver on the real blueprint (the edge's dubbing script) and on generated
scripts of 100 to 10,000 segments: time per phase, peak memory and time per segment, so the
growth (it should be linear) is visible. Measures, never asserts.
Run: `python -m tests.bench.editing` (no emulator needed)."""

from __future__ import annotations

import random
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from tests.support.editing import edge_copy
from tests.support.paths import BLUEPRINT
from tests.support.synthetic import synthetic_blueprint
from vss.domain.artifacts import DubbingScript
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import EditingServiceParams
from vss.editing.exports import export_files
from vss.editing.report import validate
from vss.editing.script import build_editing_script, deterministic_rankings, prepare

SIZES = (100, 1_000, 10_000)
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


def bench(label: str, dataset: Dataset, dubbing: DubbingScript, exports: bool) -> dict[str, Any]:
    params = EditingServiceParams()
    prepare_s, prepared = _timed(lambda: prepare(dubbing, dataset, params))
    rank_s, rankings = _timed(lambda: deterministic_rankings(prepared, dubbing))
    solve_s, (script, _) = _timed(lambda: build_editing_script(
        dubbing, dataset, params, prepared, rankings, "deterministic"))
    validate_s, report = _timed(lambda: validate(script, dubbing, dataset, params))
    export_s = _timed(lambda: export_files(script, dataset, label))[0] if exports else None

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
    total = prepare_s + rank_s + solve_s + validate_s
    return {"case": label, "segments": segments, "scenes": len(dataset.scenes),
            "clips": report.clip_lengths.clips, "prepare_s": prepare_s, "rank_s": rank_s,
            "solve_s": solve_s, "validate_s": validate_s, "export_s": export_s,
            "total_s": total, "peak_mib": peak / 2**20, "us_per_segment": total / segments * 1e6,
            "ok": report.ok, "max_error_frames": report.max_coverage_error_frames}


def run() -> list[dict[str, Any]]:
    rows = [bench("real blueprint", parse_dataset(BLUEPRINT.read_bytes()),
                  DubbingScript.model_validate(edge_copy()), exports=True)]
    for size in SIZES:
        dataset, dubbing = generated(size)
        # The FCP and EDL writers of OpenTimelineIO grow faster than linearly: exports are
        # timed on the smallest size only.
        rows.append(bench(f"generated {size}", dataset, dubbing, exports=size <= 100))
    return rows


def main() -> None:
    rows = run()
    print("editing solver, deterministic ranking (one run each; peak memory traced separately)")
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


if __name__ == "__main__":
    main()
