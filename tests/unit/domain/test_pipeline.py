"""A stage's inputs: the payload, typed; inputs an earlier stage made come from its result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vss.domain import tasks as rules
from vss.domain.payloads import GenerateDubbingPayload, GenerateEditingPayload
from vss.domain.pipeline import stage_inputs
from vss.domain.results import DubbingResult, NarrationResult
from vss.domain.tasks import Stage, TaskType
from vss.domain.usage import Usage
from vss.errors import PayloadInvalid

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _task(task_type: TaskType, payload: dict) -> rules.Task:
    return rules.new_task(task_id="t", tenant_id="x", task_type=task_type, payload=payload,
                          waiting_on=[], now=NOW, deadline=timedelta(minutes=5))


def test_a_single_stage_task_reads_its_payload_typed():
    task = _task(TaskType.GENERATE_DUBBING, {"input_narration_path": "uploads/f/n.json",
                                            "service_params": {"speaking_rate": 1.5}})
    inputs = stage_inputs(task, Stage.DUBBING)
    assert isinstance(inputs, GenerateDubbingPayload)
    assert inputs.input_narration_path == "uploads/f/n.json"
    assert inputs.service_params.speaking_rate == 1.5


def test_an_earlier_stage_result_feeds_the_next_stage():
    task = _task(TaskType.GENERATE_EDITING_SCRIPT, {"blueprint_path": "uploads/f/b.json"})
    task = task.model_copy(update={"results": {
        Stage.NARRATION: NarrationResult(output_file_path="tasks/t/narration.json", snippets=3,
                                         engine="offline"),
        Stage.DUBBING_ASSEMBLY: DubbingResult(output_file_path="tasks/t/dubbing_script.json",
                                     segments=3, total_duration=12.0, engine="espeak-ng"),
    }})
    inputs = stage_inputs(task, Stage.EDITING)
    assert isinstance(inputs, GenerateEditingPayload)
    assert inputs.input_dubbing_path == "tasks/t/dubbing_script.json"
    assert inputs.blueprint_path == "uploads/f/b.json"


def test_missing_inputs_fail_with_pointers():
    task = _task(TaskType.GENERATE_EDITING_SCRIPT, {"blueprint_path": "uploads/f/b.json"})
    with pytest.raises(PayloadInvalid) as caught:
        stage_inputs(task, Stage.EDITING)
    pointers = [e["pointer"] for e in caught.value.details["errors"]]
    assert pointers == ["/payload/input_dubbing_path"]


def test_every_stage_result_survives_a_round_trip_through_storage():
    task = _task(TaskType.GENERATE_NARRATION, {"blueprint_path": "uploads/f/b.json"})
    result = NarrationResult(output_file_path="tasks/t/narration.json", snippets=2,
                             engine="offline", notes=["offline"])
    running = rules.claim(task, Stage.NARRATION, "a1", NOW, timedelta(seconds=60))
    done = rules.finish_stage(running, Stage.NARRATION, "a1", result, Usage(llm_calls=1), NOW)
    stored = rules.Task.model_validate(done.model_dump(mode="json"))
    assert stored.results == {Stage.NARRATION: result}
    assert stored.main_result == result
    assert result.as_seed_result() == {"output_file_path": "tasks/t/narration.json",
                                       "snippets": 2, "engine": "offline",
                                       "estimated_duration_seconds": None,
                                       "notes": ["offline"], "artifacts": [],
                                       "retrieval": None}
