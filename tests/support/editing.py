"""Inputs for editing tests: the real edge's copy of a dubbing script, and a solved script."""

from __future__ import annotations

import json
from pathlib import PureWindowsPath
from typing import Any

from tests.support.paths import DATA
from vss.domain.artifacts import DubbingScript, EditingScript
from vss.domain.dataset import Dataset
from vss.domain.payloads import EditingServiceParams
from vss.editing.script import build_editing_script, deterministic_rankings, prepare

UPSTREAM_DUBBING = DATA / "upstream_dubbing_script_example.json"


def edge_copy() -> dict[str, Any]:
    """The seed's dubbing script as the edge uploads it back: its own copy (Windows paths),
    with `local_audio_path` and `error` on every item, and our `total_duration`."""
    script = json.loads(UPSTREAM_DUBBING.read_text())
    for item in script["dubbing_script"]:
        name = PureWindowsPath(item["audio_file_path"]).name
        item["local_audio_path"] = f"D:\\edge\\media\\dubbing\\{name}"
        item["error"] = None
    script["total_duration"] = round(
        sum(i["duration_seconds"] for i in script["dubbing_script"]), 2)
    return script


def solve(dubbing: DubbingScript, dataset: Dataset,
          params: EditingServiceParams | None = None) -> EditingScript:
    """The editing script with the deterministic ranking, as the stage would build it."""
    params = params or EditingServiceParams()
    prepared = prepare(dubbing, dataset, params)
    script, _ = build_editing_script(dubbing, dataset, params, prepared,
                                     deterministic_rankings(prepared, dubbing), "deterministic")
    return script
