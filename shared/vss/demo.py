"""`make demo`: the edge workflow end to end against the local stack, results in demo-output/.

Creates a tenant, uploads the bundled 63-scene blueprint, then runs narration → dubbing →
editing exactly as an edge instance does over HTTP, and downloads every artifact.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from vss.config import load_local_env
from vss.edge.client import EdgeClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blueprint_contract_girlfriend.json"
OUT = ROOT / "demo-output"


def _step(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def _run(edge: EdgeClient, task_type: str, payload: dict[str, object]) -> dict[str, object]:
    started = time.monotonic()
    task = edge.create_task(task_type, payload)
    done = edge.wait(task["id"], timeout=600)
    if done["status"] != "COMPLETED":
        raise SystemExit(f"{task_type} ended {done['status']}: {done['error']}")
    _step(f"{task_type} completed in {time.monotonic() - started:.1f}s: {done['result']}")
    return done


def main() -> int:
    env = load_local_env()
    if "VSS_API_URL" not in env:
        print("The local stack is not running: `make up` first.", file=sys.stderr)
        return 1
    from vss.bootstrap import bootstrap
    from vss.service.auth import create_tenant

    creds = create_tenant(bootstrap(), "demo")
    edge = EdgeClient(env["VSS_API_URL"], creds.instance_id, creds.api_key)
    OUT.mkdir(exist_ok=True)
    _step(f"tenant {creds.tenant_id}, instance {creds.instance_id}")

    dataset = edge.upload(EXAMPLE)
    _step(f"uploaded {EXAMPLE.name} -> {dataset['relative_path']}")
    narration = _run(edge, "GENERATE_NARRATION", {
        "blueprint_path": dataset["relative_path"], "service_params": {"lang": "zh"}})
    (OUT / "narration.json").write_bytes(edge.download_result(str(narration["id"])))

    dubbing = _run(edge, "GENERATE_DUBBING", {
        "input_narration_path": narration["result"]["output_file_path"],  # type: ignore[index]
        "service_params": {"target_lang": "zh", "template_name": "demo"}})
    script = edge.download_result(str(dubbing["id"]))
    (OUT / "dubbing_script.json").write_bytes(script)
    for segment in json.loads(script)["dubbing_script"]:
        path = segment["audio_file_path"]
        (OUT / Path(path).name).write_bytes(edge.download_path(path))
    _step(f"downloaded {len(json.loads(script)['dubbing_script'])} WAVs")

    editing = _run(edge, "GENERATE_EDITING_SCRIPT", {
        "dubbing_script_path": dubbing["result"]["output_file_path"],  # type: ignore[index]
        "blueprint_path": dataset["relative_path"]})
    (OUT / "editing_script.json").write_bytes(edge.download_result(str(editing["id"])))
    _step(f"done: artifacts in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
