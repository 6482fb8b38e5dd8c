"""GENERATE_COMMENTARY on fakes: narration → dubbing → editing in one task, stop_at, every
stage's artifacts on the task, and a failed stage resumed without redoing finished ones."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.fake_audio import RecordingSpeechEngine
from tests.support.fakes import FakePublisher, fake_deps
from tests.support.tasks import deliver_published, segments_of, valid_dataset
from vss.api.views import TaskView
from vss.deps import Deps
from vss.domain.tasks import Stage, Task, TaskStatus
from vss.errors import BadRequest, InvalidTransition, TtsError
from vss.service import resume, tasks


def _commentary(deps: Deps, dataset: str, **payload: Any) -> Task:
    return tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_COMMENTARY", payload={
            "blueprint_path": dataset,
            "narration": {"control_params": {"target_duration_minutes": 1}},
            "dubbing": {"template_name": "local_zh"}, **payload}))


def _run(deps: Deps, task_id: str) -> Task:
    assert isinstance(deps.publisher, FakePublisher)
    deliver_published(deps)
    task = deps.tasks.get(task_id)
    assert task is not None
    return task


def test_one_task_runs_every_stage_and_keeps_every_stages_artifacts(blueprint_bytes: bytes):
    deps = fake_deps()
    task = _commentary(deps, valid_dataset(deps, blueprint_bytes))
    assert task.stages == [Stage.NARRATION, Stage.DUBBING, Stage.DUBBING_ASSEMBLY, Stage.EDITING]
    done = _run(deps, task.id)
    assert done.status == TaskStatus.COMPLETED, done.error
    assert set(done.results) == set(task.stages)
    view = TaskView.of(done, "http://x").model_dump(mode="json")
    assert view["result"]["output_file_path"].endswith("editing_script.json")
    assert view["results"]["narration"]["output_file_path"].endswith("narration.json")
    assert view["results"]["dubbing_assembly"]["output_file_path"].endswith(
        "dubbing_script.json")
    assert view["stages"] == ["narration", "dubbing", "dubbing_assembly", "editing"]
    assert done.progress is not None and done.progress.done == done.progress.total


@pytest.mark.parametrize(("stop_at", "last"), [("narration", Stage.NARRATION),
                                                ("dubbing", Stage.DUBBING_ASSEMBLY)])
def test_stop_at_ends_the_task_after_that_step(blueprint_bytes: bytes, stop_at: str,
                                               last: Stage):
    deps = fake_deps()
    task = _commentary(deps, valid_dataset(deps, blueprint_bytes), stop_at=stop_at)
    done = _run(deps, task.id)
    assert done.status == TaskStatus.COMPLETED and task.stages[-1] == last
    assert list(done.results)[-1] == last and Stage.EDITING not in done.results


def test_a_failed_stage_is_resumed_without_redoing_finished_stages(blueprint_bytes: bytes):
    speech = RecordingSpeechEngine(refuse="车小小")  # every line naming her is refused
    deps = fake_deps(speech)
    task = _commentary(deps, valid_dataset(deps, blueprint_bytes))
    failed = _run(deps, task.id)
    assert failed.status == TaskStatus.FAILED and failed.error is not None
    assert failed.error.code == TtsError.code and "Segment" in failed.error.message
    narration = failed.results[Stage.NARRATION]
    done_before = {s.index for s in segments_of(deps, task.id) if s.state == "done"}
    speech.refuse = None  # the cause is fixed (a voice configured, a quota raised...)
    spoken_before = len(speech.requests)
    resumed = resume.resume_task(deps, "t1", task.id)
    assert resumed.status == TaskStatus.RUNNING and resumed.error is None
    done = _run(deps, task.id)
    assert done.status == TaskStatus.COMPLETED, done.error
    assert done.results[Stage.NARRATION] == narration  # not written again
    again = [r.text for r in speech.requests[spoken_before:]]
    finished = [s for s in segments_of(deps, task.id) if s.index in done_before]
    assert not any(s.request["text"] in again for s in finished)  # finished segments kept


def test_only_a_failed_task_can_be_resumed(blueprint_bytes: bytes):
    deps = fake_deps()
    task = _commentary(deps, valid_dataset(deps, blueprint_bytes), stop_at="narration")
    _run(deps, task.id)
    with pytest.raises(InvalidTransition):
        resume.resume_task(deps, "t1", task.id)


def test_bad_stage_parameters_are_pointed_at_where_the_caller_wrote_them(
    blueprint_bytes: bytes,
):
    deps = fake_deps()
    dataset = valid_dataset(deps, blueprint_bytes)
    with pytest.raises(BadRequest) as unknown_voice:
        _commentary(deps, dataset, dubbing={"template_name": "nobody"})
    assert unknown_voice.value.details["errors"][0]["pointer"] == "/payload/dubbing/template_name"
    with pytest.raises(BadRequest) as unpriced:
        _commentary(deps, dataset, narration={"model": "gemini-0-free"})
    assert unpriced.value.details["errors"][0]["pointer"] == "/payload/narration/model"
    task = _commentary(deps, dataset, editing={"min_clip_seconds": 4, "max_clip_seconds": 2})
    failed = _run(deps, task.id)
    assert failed.status == TaskStatus.FAILED and failed.error is not None
    pointers = [e["pointer"] for e in failed.error.details.get("errors", [])]
    assert pointers and all(p.startswith("/payload/editing/") for p in pointers), pointers
