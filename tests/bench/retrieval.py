"""The story index (vss.retrieval) on the real blueprint with its character facts and on
datasets of 1,000 and 5,000 scenes that reuse the blueprint's scenes' words: build time (cut,
score, serialise), peak memory, artifact size, load time and search latency (p50/p99 over the
queries narration requests imply), plus what importing the index costs a fresh interpreter
and what a search costs through the API. Measures, never asserts.

Named figures go to build/bench.json (`tests.support.bench_figures`), each with the load
average, one per measurement printed; `<n>` is a tiled dataset's scenes, or `blueprint` for
the real one: `retrieval.cold_import_seconds`, `retrieval.first_cut_seconds` and
`retrieval.cold_import_peak_rss_mib` (the fresh interpreter); `retrieval.build_seconds_<n>`
(with its CPU time), `retrieval.build_peak_mib_<n>`, `retrieval.artifact_kib_<n>`,
`retrieval.load_ms_<n>`, `retrieval.search_p50_ms_<n>` and `retrieval.search_p99_ms_<n>`;
`retrieval.api_first_search_ms_<n>`, `retrieval.api_search_p50_ms_<n>` and
`retrieval.api_search_p99_ms_<n>` (each index searched through the API).
Run: `python -m tests.bench.retrieval` (no emulator needed); `--help` for other sizes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.support.bench_figures import OUTPUT, describe, figure, record
from tests.support.paths import BLUEPRINT, DATA, ROOT
from tests.support.synthetic import tiled_blueprint
from vss.domain.dataset import Dataset, parse_dataset
from vss.domain.payloads import NarrationServiceParams, NarrativeFocus
from vss.retrieval.index import StoryIndex
from vss.retrieval.query import narration_query
from vss.retrieval.report import index_dataset
from vss.retrieval.tokens import terms_for

SIZES = (1_000, 5_000)
SEARCH_ROUNDS = 50
API_SEARCHES = 300
CHARACTERS = ("车小小", "楚昊轩", "宋安娜", "陆乘风", "爷爷")

# Runs in a fresh interpreter: the clock starts after the standard library is in. Its peak
# memory is its own (bench_figures.peak_rss_mib), read once the clock has stopped.
_COLD_IMPORT = """\
import json, sys, time
started = time.perf_counter()
import vss.retrieval.tokens
imported = time.perf_counter()
vss.retrieval.tokens.terms_for("zh", ["车小小"])("车小小来了")
ready = time.perf_counter()
from tests.support.bench_figures import peak_rss_mib
print("BENCH " + json.dumps({"import_s": imported - started, "first_cut_s": ready - imported,
                             "rss_mib": peak_rss_mib()}), flush=True)
"""

Figures = dict[str, dict[str, Any]]


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def _ms(seconds: float) -> float:
    return round(seconds * 1e3, 3)


def _peak_mib(work: Callable[[], Any]) -> float:
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def queries(dataset: Dataset) -> list[str]:
    """What each narrative focus implies, alone and following each main character."""
    found = []
    for focus in NarrativeFocus:
        if focus in (NarrativeFocus.GENERAL, NarrativeFocus.CUSTOM):
            continue
        for names in ([], *([name] for name in CHARACTERS)):
            control = {"narrative_focus": focus,
                       "character_focus": {"mode": "focus" if names else "all",
                                           "characters": names}}
            found.append(narration_query(NarrationServiceParams.model_validate(
                {"lang": "zh", "control_params": control}), dataset))
    return found


def bench(label: str, key: str, dataset: Dataset, facts: Any, asked: list[str],
          rounds: int = SEARCH_ROUNDS) -> tuple[dict[str, Any], Figures]:
    """A row of the table, and its figures named after `key` (each taken as its measurement
    ends)."""
    cpu_started = time.process_time()
    build_s, built = _timed(lambda: index_dataset(dataset, facts))
    cpu_s = time.process_time() - cpu_started
    documents, terms = built.report.documents, len(built.index.header.vocabulary)
    figures: Figures = {f"retrieval.build_seconds_{key}": figure(
        round(build_s, 4), "s", cpu_seconds=round(cpu_s, 4), scenes=len(dataset.scenes),
        documents=documents, terms=terms)}
    peak = _peak_mib(lambda: index_dataset(dataset, facts))
    figures[f"retrieval.build_peak_mib_{key}"] = figure(round(peak, 1), "MiB")
    kib = len(built.artifact) / 1024
    figures[f"retrieval.artifact_kib_{key}"] = figure(round(kib, 1), "KiB")
    load_s, loaded = _timed(lambda: StoryIndex.from_bytes(built.artifact))
    figures[f"retrieval.load_ms_{key}"] = figure(_ms(load_s), "ms")
    latencies = []
    for _ in range(rounds):
        for query in asked:
            seconds, _ = _timed(lambda q=query: loaded.search(q, 10))
            latencies.append(seconds)
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = statistics.median(latencies), cuts[98]
    figures[f"retrieval.search_p50_ms_{key}"] = figure(_ms(p50), "ms", searches=len(latencies))
    figures[f"retrieval.search_p99_ms_{key}"] = figure(_ms(p99), "ms", searches=len(latencies))
    row = {"dataset": label, "scenes": len(dataset.scenes), "documents": documents,
           "terms": terms, "build_s": build_s, "peak_mib": peak, "kib": kib,
           "load_ms": load_s * 1e3, "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3,
           "searches": len(latencies)}
    return row, figures


def cold_import() -> tuple[dict[str, float], Figures]:
    done = subprocess.run([sys.executable, "-c", _COLD_IMPORT], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"importing vss.retrieval failed:\n{done.stderr[-2000:]}")
    measured: dict[str, float] = json.loads(lines[-1][len("BENCH "):])
    return measured, {
        "retrieval.cold_import_seconds": figure(round(measured["import_s"], 3), "s"),
        "retrieval.first_cut_seconds": figure(round(measured["first_cut_s"], 3), "s"),
        "retrieval.cold_import_peak_rss_mib": figure(round(measured["rss_mib"], 1), "MiB")}


def run(sizes: Sequence[int] = SIZES, rounds: int = SEARCH_ROUNDS
        ) -> tuple[list[dict[str, Any]], Figures]:
    """The rows of the table (the real blueprint with its facts, then `sizes` tiled) and their
    figures."""
    raw = BLUEPRINT.read_bytes()
    blueprint = parse_dataset(raw)
    facts = json.loads((DATA / "upstream_character_facts_example.json").read_bytes())
    asked = queries(blueprint)
    terms_for("zh")  # jieba's dictionary is read once per process: not a build's cost
    row, figures = bench("real blueprint", "blueprint", blueprint, facts, asked, rounds)
    rows = [row]
    for n in sizes:
        row, measured = bench(f"tiled {n}", str(n), parse_dataset(tiled_blueprint(raw, n)),
                              None, asked, rounds)
        rows.append(row)
        figures.update(measured)
    return rows, figures


def api_search(raw: bytes, key: str, rounds: int = API_SEARCHES
               ) -> tuple[dict[str, float], Figures]:
    """GET /api/v1/assets/{id}/search/ through the API app (in process, fake ports) on the
    index of the dataset `raw`: what an edge's search costs the API once the index is loaded
    (its first search loads it)."""
    from tests.support.edge_api import FakeEdge, edge_request
    from tests.support.fakes import fake_deps

    edge = FakeEdge.of(fake_deps(max_upload_bytes=max(len(raw), 1 << 20)))
    dataset = edge.upload("blueprint.json", raw)
    deployed = edge.run(edge_request("deploy_rag_corpus", blueprint_input_path=dataset,
                                     facts_input_path=None, asset_id="bench"))
    assert deployed["status"] == "COMPLETED", deployed.get("error")

    def search(query: str) -> None:
        answer = edge.client.get("/api/v1/assets/bench/search/", headers=edge.headers,
                                 query_string={"q": query, "k": 10})
        assert answer.status_code == 200, answer.get_json()

    first_s, _ = _timed(lambda: search("车小小"))
    figures = {f"retrieval.api_first_search_ms_{key}": figure(_ms(first_s), "ms")}
    asked = [f"{name} 结婚 秘密" for name in CHARACTERS]
    latencies = [_timed(lambda q=q: search(q))[0] for _ in range(rounds // len(asked))
                 for q in asked]
    cuts = statistics.quantiles(latencies, n=100)
    p50, p99 = statistics.median(latencies), cuts[98]
    figures[f"retrieval.api_search_p50_ms_{key}"] = figure(_ms(p50), "ms",
                                                           searches=len(latencies))
    figures[f"retrieval.api_search_p99_ms_{key}"] = figure(_ms(p99), "ms",
                                                           searches=len(latencies))
    return {"first_ms": first_s * 1e3, "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3,
            "searches": len(latencies)}, figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.retrieval",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="tiled datasets' scenes (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=SEARCH_ROUNDS,
                        help="rounds of the queries searched in each index (default: "
                             "%(default)s)")
    parser.add_argument("--api-searches", type=int, default=API_SEARCHES,
                        help=f"searches through the API, {len(CHARACTERS)} at least "
                             "(default: %(default)s)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help="the bench file the named figures go to (default: build/bench.json)")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.sizes))
    if sizes[0] < 1 or args.rounds < 1 or args.api_searches < len(CHARACTERS):
        parser.error(f"--sizes and --rounds must be 1 or more, --api-searches "
                     f"{len(CHARACTERS)} or more")
    cold, figures = cold_import()
    print(f"fresh interpreter: import vss.retrieval {cold['import_s']:.2f} s, first cut "
          f"(jieba's dictionary) {cold['first_cut_s']:.2f} s, max RSS "
          f"{cold['rss_mib']:.0f} MiB")
    rows, measured = run(sizes, args.rounds)
    figures.update(measured)
    print("story index: build = documents + terms + BM25 + bytes (peak memory traced "
          "separately); search = top 10 of the queries narration requests imply")
    print(f"{'dataset':<16}{'scenes':>7}{'docs':>6}{'terms':>7}{'build s':>9}{'peak MiB':>9}"
          f"{'KiB':>7}{'load ms':>9}{'p50 ms':>8}{'p99 ms':>8}{'searches':>9}")
    for r in rows:
        print(f"{r['dataset']:<16}{r['scenes']:>7}{r['documents']:>6}{r['terms']:>7}"
              f"{r['build_s']:>9.3f}{r['peak_mib']:>9.1f}{r['kib']:>7.0f}{r['load_ms']:>9.1f}"
              f"{r['p50_ms']:>8.3f}{r['p99_ms']:>8.3f}{r['searches']:>9}")
    raw = BLUEPRINT.read_bytes()
    for key, data in [("blueprint", raw), *((str(n), tiled_blueprint(raw, n)) for n in sizes)]:
        api, measured = api_search(data, key, args.api_searches)
        figures.update(measured)
        print(f"search through the API (in process, {key} scenes, top 10): first "
              f"{api['first_ms']:.1f} ms (loads the index), then p50 {api['p50_ms']:.2f} ms, "
              f"p99 {api['p99_ms']:.2f} ms over {api['searches']:.0f} searches")
    for name, value in figures.items():
        print(describe(name, value))
    record(figures, args.output)
    print(f"figures written to {args.output}")


if __name__ == "__main__":
    main()
