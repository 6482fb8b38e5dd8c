"""Generate `schemas/*.schema.json` from the pydantic models (`--check` fails when stale).

Run `make schemas` after changing a model; CI runs the check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pydantic import BaseModel

from vss.api.views import ErrorBody, TaskPage, TaskView, UploadedFile
from vss.domain.artifacts import DubbingScript, EditingScript, NarrationScript
from vss.domain.character_facts import CharacterFactsReport
from vss.domain.dataset import Dataset
from vss.domain.editing_report import EditingReport
from vss.domain.messages import DeadlineCheck, SegmentMessage, StageMessage
from vss.domain.payloads import PAYLOADS
from vss.domain.results import (
    DubbingPlanResult,
    DubbingResult,
    EditingResult,
    LocalizationResult,
    NarrationResult,
)
from vss.domain.segments import SegmentRecord
from vss.domain.story_index import IndexReport
from vss.dubbing.plan import SegmentRequest
from vss.edge.render.report import RenderReport
from vss.service.tasks import CreateTask
from vss.service.uploads import SignedUpload, SignedUploadRequest

MODELS: list[type[BaseModel]] = [
    NarrationScript, DubbingScript, EditingScript, CharacterFactsReport, Dataset,
    *PAYLOADS.values(), CreateTask, TaskView, TaskPage, ErrorBody, UploadedFile,
    SignedUploadRequest, SignedUpload,
    StageMessage, SegmentMessage, DeadlineCheck, NarrationResult, DubbingPlanResult,
    DubbingResult, EditingResult, EditingReport, LocalizationResult,
    SegmentRequest, SegmentRecord,
    IndexReport,  # beside a story index artifact (vss.retrieval)
    RenderReport,  # written by the edge next to a rendered video (`vss render`)
]
SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def render(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def expected() -> dict[str, str]:
    return {f"{m.__name__}.schema.json": render(m) for m in MODELS}


def stale(directory: Path = SCHEMA_DIR) -> list[str]:
    want = expected()
    have = {p.name for p in directory.glob("*.schema.json")}
    wrong = [n for n, text in want.items()
             if not (directory / n).exists() or (directory / n).read_text() != text]
    return sorted(wrong + list(have - set(want)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if schemas/ is stale")
    args = parser.parse_args(argv)
    if args.check:
        bad = stale()
        if bad:
            print(f"schemas/ is stale ({', '.join(bad)}): run `make schemas`.", file=sys.stderr)
            return 1
        return 0
    SCHEMA_DIR.mkdir(exist_ok=True)
    for old in SCHEMA_DIR.glob("*.schema.json"):
        old.unlink()
    for name, text in expected().items():
        (SCHEMA_DIR / name).write_text(text)
    print(f"wrote {len(MODELS)} schemas to {SCHEMA_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
