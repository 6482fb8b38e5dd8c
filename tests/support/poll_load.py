"""Many edges polling one task at once, each with its own `EdgeClient` (its own session and
ETag cache), back to back for a bounded time: the latency of each poll, the share a 304
answered and the body bytes that crossed the wire. Shared by the polling benchmark
(tests/bench/polling.py, against the local stack) and its in-process smoke test."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from vss.edge.client import EdgeClient


@dataclass
class _Edge:
    """What one polling edge saw."""

    latencies: list[float] = field(default_factory=list)
    fetched: int = 0
    not_modified: int = 0
    body_bytes: int = 0


def _poll_until(client: EdgeClient, task_id: str, deadline: float, conditional: bool) -> _Edge:
    edge = _Edge()

    def count_body(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        edge.body_bytes += len(response.content)

    client.session.hooks["response"].append(count_body)
    url = f"{client.base}/tasks/{task_id}/"
    while True:  # at least one poll per edge, however late its thread started
        started = time.perf_counter()
        if conditional:
            client.get_task(task_id)
        else:  # as the client polled before ETags: the whole view every time
            client.session.get(url, timeout=client.timeout).raise_for_status()
            client.polls.fetched += 1
        edge.latencies.append(time.perf_counter() - started)
        if started >= deadline:
            break
    edge.fetched, edge.not_modified = client.polls.fetched, client.polls.not_modified
    return edge


def poll_load(new_client: Callable[[], EdgeClient], task_id: str, *, clients: int,
              seconds: float, conditional: bool = True) -> dict[str, Any]:
    """`clients` threads, each polling `task_id` through its own `new_client()` until
    `seconds` have passed; the figures of all their polls."""
    edges = [new_client() for _ in range(clients)]  # built before the clock starts
    started = time.perf_counter()
    deadline = started + seconds
    with ThreadPoolExecutor(max_workers=clients) as pool:
        seen = list(pool.map(lambda c: _poll_until(c, task_id, deadline, conditional), edges))
    wall = time.perf_counter() - started
    latencies = sorted(s for edge in seen for s in edge.latencies)
    polls = len(latencies)  # at least one per client
    not_modified = sum(edge.not_modified for edge in seen)
    # quantiles needs two values: a single poll is every percentile
    cuts = statistics.quantiles(latencies, n=100) if polls > 1 else latencies * 99
    return {
        "clients": clients, "seconds": seconds, "conditional": conditional,
        "requests": polls, "not_modified": not_modified,
        "not_modified_share": round(not_modified / polls, 4),
        "p50_ms": round(statistics.median(latencies) * 1e3, 2),
        "p99_ms": round(cuts[98] * 1e3, 2),
        "max_ms": round(latencies[-1] * 1e3, 2),
        "requests_per_second": round(polls / wall, 1),
        "body_bytes_per_poll": round(sum(e.body_bytes for e in seen) / polls, 1),
    }
