"""Fan-out efficiency of dubbing on the local stack: N segments, a fake Cloud TTS answering
after a fixed latency L, the TTS worker serving C requests at once (VSS_TTS_CONCURRENCY).
Prints the segments phase's wall time against the ideal ⌈N/C⌉·L and the serial N·L (what the
seed and the popular open-source tools do). Run with the stack up: `python -m tests.bench.fan_out`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from pathlib import Path

from tests.support.fake_tts import FakeTts
from tests.support.stack import ENV_FILE, new_tenant, stack_settings
from tests.support.tts_stack import tts_worker_speaking_through
from vss.config import load_local_env

SEGMENTS = 60
LATENCY_S = 1.0


def narration_script(segments: int) -> bytes:
    lines = [{"narration": f"第{i + 1}段，她终于走进了那家咖啡店。",
              "source_scene_ids": [i % 60 + 1]} for i in range(segments)]
    return json.dumps({"narration_script": lines}, ensure_ascii=False).encode()


def main() -> None:
    load_local_env(ENV_FILE)
    concurrency = stack_settings().tts_concurrency
    edge, _ = new_tenant()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "narration.json"
        path.write_bytes(narration_script(SEGMENTS))
        narration = edge.upload(path)["relative_path"]
    with FakeTts(latency_s=LATENCY_S) as fake, tts_worker_speaking_through(fake):
        task = edge.create_task("GENERATE_DUBBING", {
            "input_narration_path": narration,
            "service_params": {"template_name": "chinese_chirp3_hd"}})
        started = time.monotonic()
        fanned = finished = None
        while True:
            view = edge.get_task(task["id"])
            progress = view.get("progress")
            now = time.monotonic()
            if progress and fanned is None:
                fanned = now
            if progress and progress["done"] == progress["total"] and finished is None:
                finished = now
            if view["status"] not in ("PENDING", "RUNNING"):
                break
            time.sleep(0.1)
        total = time.monotonic() - started
    assert view["status"] == "COMPLETED", view["error"]
    segments_phase = (finished or now) - (fanned or started)
    ideal = math.ceil(SEGMENTS / concurrency) * LATENCY_S
    serial = SEGMENTS * LATENCY_S
    print(f"fan-out: {SEGMENTS} segments, fake Cloud TTS latency {LATENCY_S:.1f} s, "
          f"concurrency {concurrency}, load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  segments phase {segments_phase:.1f} s (task {total:.1f} s); "
          f"ideal ceil(N/C)*L {ideal:.1f} s -> {ideal / segments_phase:.0%} of ideal; "
          f"serial N*L {serial:.1f} s -> {serial / segments_phase:.1f}x faster")


if __name__ == "__main__":
    main()
