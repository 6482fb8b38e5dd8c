"""The story index (vss.retrieval) on the real blueprint with its character facts and on
datasets of 1,000 and 5,000 scenes that reuse the blueprint's scenes' words: build time (cut,
score, serialise), peak memory, artifact size, load time and search latency (p50/p99 over the
queries narration requests imply), plus what importing the index costs a fresh interpreter.
Measures, never asserts. Run: `python -m tests.bench.retrieval` (no emulator needed)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

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
CHARACTERS = ("车小小", "楚昊轩", "宋安娜", "陆乘风", "爷爷")

# Runs in a fresh interpreter: the clock starts after the standard library is in.
_COLD_IMPORT = """\
import json, resource, sys, time
started = time.perf_counter()
import vss.retrieval.tokens
imported = time.perf_counter()
vss.retrieval.tokens.terms_for("zh", ["车小小"])("车小小来了")
ready = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("BENCH " + json.dumps({"import_s": imported - started, "first_cut_s": ready - imported,
                             "rss_kib": rss}), flush=True)
"""


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


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


def bench(label: str, dataset: Dataset, facts: Any, asked: list[str]) -> dict[str, Any]:
    build_s, built = _timed(lambda: index_dataset(dataset, facts))
    peak = _peak_mib(lambda: index_dataset(dataset, facts))
    load_s, loaded = _timed(lambda: StoryIndex.from_bytes(built.artifact))
    latencies = []
    for _ in range(SEARCH_ROUNDS):
        for query in asked:
            seconds, _ = _timed(lambda q=query: loaded.search(q, 10))
            latencies.append(seconds)
    cuts = statistics.quantiles(latencies, n=100)
    return {"dataset": label, "scenes": len(dataset.scenes),
            "documents": built.report.documents,
            "terms": len(built.index.header.vocabulary), "build_s": build_s,
            "peak_mib": peak, "kib": len(built.artifact) / 1024, "load_ms": load_s * 1e3,
            "p50_ms": statistics.median(latencies) * 1e3, "p99_ms": cuts[98] * 1e3,
            "searches": len(latencies)}


def cold_import() -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", _COLD_IMPORT], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"importing vss.retrieval failed:\n{done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(lines[-1][len("BENCH "):])
    return figures


def run() -> list[dict[str, Any]]:
    raw = BLUEPRINT.read_bytes()
    blueprint = parse_dataset(raw)
    facts = json.loads((DATA / "upstream_character_facts_example.json").read_bytes())
    asked = queries(blueprint)
    terms_for("zh")  # jieba's dictionary is read once per process: not a build's cost
    rows = [bench("real blueprint", blueprint, facts, asked)]
    rows += [bench(f"tiled {n}", parse_dataset(tiled_blueprint(raw, n)), None, asked)
             for n in SIZES]
    return rows


def api_search(rounds: int = 300) -> dict[str, float]:
    """GET /api/v1/assets/{id}/search/ through the API app (in process, fake ports): what an
    edge's search costs the API once the index is loaded (its first search loads it)."""
    from tests.support.edge_api import FakeEdge, edge_request
    from tests.support.fakes import fake_deps

    edge = FakeEdge.of(fake_deps())
    dataset = edge.upload("blueprint.json", BLUEPRINT.read_bytes())
    deployed = edge.run(edge_request("deploy_rag_corpus", blueprint_input_path=dataset,
                                     facts_input_path=None, asset_id="bench"))
    assert deployed["status"] == "COMPLETED", deployed.get("error")

    def search(query: str) -> None:
        answer = edge.client.get("/api/v1/assets/bench/search/", headers=edge.headers,
                                 query_string={"q": query, "k": 10})
        assert answer.status_code == 200, answer.get_json()

    first_s, _ = _timed(lambda: search("车小小"))
    asked = [f"{name} 结婚 秘密" for name in CHARACTERS]
    latencies = [_timed(lambda q=q: search(q))[0] for _ in range(rounds // len(asked))
                 for q in asked]
    cuts = statistics.quantiles(latencies, n=100)
    return {"first_ms": first_s * 1e3, "p50_ms": statistics.median(latencies) * 1e3,
            "p99_ms": cuts[98] * 1e3, "searches": len(latencies)}


def main() -> None:
    cold = cold_import()
    print(f"fresh interpreter: import vss.retrieval {cold['import_s']:.2f} s, first cut "
          f"(jieba's dictionary) {cold['first_cut_s']:.2f} s, max RSS "
          f"{cold['rss_kib'] / 1024:.0f} MiB")
    rows = run()
    print("story index: build = documents + terms + BM25 + bytes (peak memory traced "
          "separately); search = top 10 of the queries narration requests imply")
    print(f"{'dataset':<16}{'scenes':>7}{'docs':>6}{'terms':>7}{'build s':>9}{'peak MiB':>9}"
          f"{'KiB':>7}{'load ms':>9}{'p50 ms':>8}{'p99 ms':>8}{'searches':>9}")
    for r in rows:
        print(f"{r['dataset']:<16}{r['scenes']:>7}{r['documents']:>6}{r['terms']:>7}"
              f"{r['build_s']:>9.3f}{r['peak_mib']:>9.1f}{r['kib']:>7.0f}{r['load_ms']:>9.1f}"
              f"{r['p50_ms']:>8.3f}{r['p99_ms']:>8.3f}{r['searches']:>9}")
    api = api_search()
    print(f"search through the API (in process, 63 scenes, top 10): first {api['first_ms']:.1f}"
          f" ms (loads the index), then p50 {api['p50_ms']:.2f} ms, p99 {api['p99_ms']:.2f} ms"
          f" over {api['searches']:.0f} searches")


if __name__ == "__main__":
    main()
