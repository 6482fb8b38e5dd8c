"""GENERATE_EDITING_SCRIPT: source clips under each narration segment, to the frame.

Reads the dubbing script (ours, or the edge's copy with its own extra keys) and the dataset,
checks that they belong together, ranks each segment's candidate clips (Gemini when one is
configured and the task allows it, else the deterministic ranking), solves the cuts
(`vss.editing`), and writes the editing script, its validation report and the NLE exports.
"""

from __future__ import annotations

import json
import logging

from pydantic import BaseModel

from vss.domain.artifacts import DubbingScript
from vss.domain.payloads import GenerateEditingPayload
from vss.domain.results import EditingResult
from vss.editing import collector_paused
from vss.editing.exports import export_files
from vss.editing.inputs import check_dubbing, check_params
from vss.editing.llm_ranking import rank_with_llm
from vss.editing.report import validate
from vss.editing.script import build_editing_script, deterministic_rankings, prepare
from vss.errors import PayloadInvalid
from vss.handlers._io import read_dataset, read_model, write_json
from vss.stage_handler import StageContext, StageOutput

log = logging.getLogger(__name__)

SCRIPT_NAME = "editing_script.json"
REPORT_NAME = "editing/validation_report.json"


def _write(ctx: StageContext, name: str, model: BaseModel) -> str:
    data = json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2).encode()
    return ctx.files.write(name, data, "application/json")


# One pause of the collector over the whole stage, not one per step of the core: between
# the steps a collection would walk everything the steps before had built.
@collector_paused()
def run(ctx: StageContext) -> StageOutput:
    payload = ctx.inputs_as(GenerateEditingPayload)
    params = payload.service_params
    check_params(params)
    dubbing = read_model(ctx.files, payload.input_dubbing_path, DubbingScript)
    dataset = read_dataset(ctx.files, payload.blueprint_path)
    check_dubbing(dubbing, dataset, payload.input_dubbing_path, params.max_segment_seconds,
                  params.lang.value if params.lang else None)
    prepared = prepare(dubbing, dataset, params)
    rankings = deterministic_rankings(prepared, dubbing)
    ranking_name, notes = "deterministic", []
    llm = None if params.ranking == "deterministic" else ctx.llm(params.model)
    if params.ranking == "gemini" and llm is None:
        raise PayloadInvalid("ranking 'gemini' was asked for but no model is configured.",
                             details={"errors": [{"pointer": "/payload/service_params/ranking",
                                                  "reason": "no Gemini model is configured"}]})
    if llm is not None:
        ranked = rank_with_llm(llm, [s.narration for s in dubbing.dubbing_script], rankings,
                               dataset)
        rankings, notes = ranked.rankings, ranked.notes
        ranking_name = f"{llm.name}:{llm.model}" if ranked.ranked_segments else \
            "deterministic (model answers unusable)"
    script, _ = build_editing_script(dubbing, dataset, params, prepared, rankings,
                                     ranking_name)
    script.notes[:0] = notes
    report = validate(script, dubbing, dataset, params)
    path = write_json(ctx.files, SCRIPT_NAME, script)
    report_path = _write(ctx, REPORT_NAME, report)
    exports = {export.format: ctx.files.write(export.name, export.data, export.content_type)
               for export in export_files(script, dataset, dataset.title)}
    if not report.ok:  # the solver broke one of its own guarantees: keep the evidence
        log.error("editing script failed its validation: %s",
                  "; ".join(i.message for i in report.issues[:5]))
    return StageOutput(
        result=EditingResult(
            output_file_path=path, segments=len(script.editing_script),
            report_file_path=report_path, exports=exports, ranking=ranking_name,
            clips=sum(len(s.b_roll_clips) for s in script.editing_script),
            hold_segments=len(report.hold_segments),
            extended_segments=len(report.extended_segments),
            max_coverage_error_frames=report.max_coverage_error_frames, valid=report.ok),
    )
