"""Status polling against the running local stack (`make bench`): 16 edges poll one finished
task back to back for a bounded time, first unconditionally (the whole view every time, as
before ETags), then as `EdgeClient.get_task` does, with `If-None-Match` (304 while nothing
changed). Measures, never asserts. Prints a report and adds the figures to build/bench.json
under `polling` (keeping what `python -m tests.bench.run` wrote there), with the load average.
Run: `python -m tests.bench.polling` with the stack up.
"""

from __future__ import annotations

import json
import os
from typing import Any

from tests.support.paths import BLUEPRINT, ROOT
from tests.support.poll_load import poll_load
from tests.support.stack import ENV_FILE, new_tenant
from vss.config import load_local_env
from vss.edge.client import EdgeClient

OUTPUT = ROOT / "build" / "bench.json"
CLIENTS = 16
SECONDS = 10.0
TASK_TIMEOUT = 180.0


def finished_task(edge: EdgeClient) -> str:
    """Upload the blueprint and run a narration task through the stack; its id once ended."""
    relative_path = edge.upload(BLUEPRINT)["relative_path"]
    task = edge.create_task("GENERATE_NARRATION", {"blueprint_path": relative_path})
    done = edge.wait(task["id"], timeout=TASK_TIMEOUT)
    if done["status"] != "COMPLETED":
        raise RuntimeError(f"narration over the API ended {done['status']}: {done['error']}")
    return str(task["id"])


def measure(api_url: str, creds: dict[str, str], task_id: str) -> dict[str, Any]:
    """The same task polled unconditionally, then conditionally: the conditional figures,
    with the unconditional ones beside them."""
    def new_client() -> EdgeClient:
        return EdgeClient(api_url, creds["instance_id"], creds["api_key"])

    before = os.getloadavg()
    unconditional = poll_load(new_client, task_id, clients=CLIENTS, seconds=SECONDS,
                              conditional=False)
    conditional = poll_load(new_client, task_id, clients=CLIENTS, seconds=SECONDS)
    return {**conditional, "unconditional": unconditional,
            "load_average_before": before, "load_average_after": os.getloadavg(),
            "cores": os.cpu_count()}


def report(figures: dict[str, Any]) -> str:
    load = f"{figures['load_average_before'][0]:.1f} → {figures['load_average_after'][0]:.1f}"
    lines = [f"Status polling: {figures['clients']} clients polling one finished task back to "
             f"back, {figures['seconds']:g} s each way, load {load} on {figures['cores']} cores",
             "| polls | requests | req/s | p50 ms | p99 ms | 304 share | body bytes/poll |",
             "|---|---|---|---|---|---|---|"]
    for label, row in (("unconditional", figures["unconditional"]), ("If-None-Match", figures)):
        lines.append(f"| {label} | {row['requests']} | {row['requests_per_second']} | "
                     f"{row['p50_ms']} | {row['p99_ms']} | {row['not_modified_share']:.1%} | "
                     f"{row['body_bytes_per_poll']} |")
    return "\n".join(lines)


def main() -> None:
    load_local_env(ENV_FILE)
    edge, creds = new_tenant()
    figures = measure(os.environ["VSS_API_URL"], creds, finished_task(edge))
    print(report(figures))
    # Other benchmarks write this file too (tests.bench.run, first in `make bench`): add to it.
    written = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({**written, "polling": figures}, indent=2) + "\n")
    print(f"\nfigures written to {OUTPUT.relative_to(ROOT)} (polling)")


if __name__ == "__main__":
    main()
