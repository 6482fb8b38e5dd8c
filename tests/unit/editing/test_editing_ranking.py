"""Ranking by a model through the StructuredLlm port (scripted here; the real client against
the loopback Gemini is in tests/integration/test_editing_gemini.py)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.support.editing import edge_copy
from tests.support.fakes import ScriptedLlm, fake_deps, model_call
from tests.support.tasks import valid_dataset
from vss.deps import Deps
from vss.domain.artifacts import EditingScript
from vss.domain.messages import StageMessage
from vss.domain.tasks import Stage, TaskStatus
from vss.editing.llm_ranking import Ranking
from vss.errors import LlmError
from vss.ports import LlmResult
from vss.service import stages, tasks
from vss.service.storage import TaskFiles
from vss.service.uploads import check_landed_object, store_upload

_SEGMENT = re.compile(r"^Segment (\d+)$", re.MULTILINE)
_ID = re.compile(r"^  \[([^\]]+)\]", re.MULTILINE)


def listed(prompt: str) -> dict[int, list[str]]:
    """The candidate ids the prompt lists for each segment, in the order shown."""
    parts = _SEGMENT.split(prompt)[1:]
    return {int(index): _ID.findall(body) for index, body in zip(parts[::2], parts[1::2],
                                                                 strict=True)}


def reversed_ranking(system: str, prompt: str, schema: type) -> LlmResult[Any]:
    """A model that prefers what the deterministic ranking put last."""
    assert schema is Ranking
    answer = Ranking.model_validate({"segments": [
        {"segment": index, "candidate_ids": [*ids[::-1], "s999.d0"]}
        for index, ids in listed(prompt).items()]})
    return LlmResult(answer, answer.model_dump_json(), model_call(1200, 80, 0.002))


def _run(deps: Deps, service_params: dict[str, Any], blueprint_bytes: bytes
         ) -> tuple[Any, EditingScript | None]:
    blueprint = valid_dataset(deps, blueprint_bytes)
    record = store_upload(deps, "t1", "dubbing.json",
                          json.dumps(edge_copy(), ensure_ascii=False).encode())
    check_landed_object(deps, deps.settings.uploads_bucket,
                        f"tenants/t1/{record.relative_path}", record.generation)
    task = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_EDITING_SCRIPT",
        payload={"dubbing_script_path": record.relative_path, "blueprint_path": blueprint,
                 "service_params": service_params}))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.EDITING))
    done = deps.tasks.get(task.id)
    assert done is not None
    if done.status != TaskStatus.COMPLETED:
        return done, None
    path = done.main_result.output_file_path
    return done, EditingScript.model_validate_json(TaskFiles(deps, "t1", task.id).read(path))


def test_the_models_order_decides_which_clips_are_cut(blueprint_bytes):
    llm = ScriptedLlm(reversed_ranking)
    deps = fake_deps(llm_for=lambda model: llm)
    done, script = _run(deps, {}, blueprint_bytes)
    assert script is not None and script.ranking == "scripted:scripted-1"
    _, plain = _run(fake_deps(), {}, blueprint_bytes)
    assert plain is not None and plain.ranking == "deterministic"
    # One call per 8 segments: the 7 segments of the script in one prompt.
    assert len(llm.prompts) == 1
    system, prompt, schema = llm.prompts[0]
    assert schema == "Ranking" and "film editor" in system
    assert edge_copy()["dubbing_script"][1]["narration"] in prompt
    ranked = listed(prompt)
    for segment, scripted, baseline in zip(script.editing_script, ranked.values(),
                                           plain.editing_script, strict=True):
        top = [c for c in segment.b_roll_clips if c.reason and "rank 1 of" in c.reason]
        assert top and top[0].relevance == 1.0
        assert f"scene {top[0].scene_id}" in top[0].reason
        assert scripted[-1].startswith(f"s{top[0].scene_id}.")
        # Coverage stays exact whatever the model said.
        assert sum(c.frames for c in segment.b_roll_clips) == \
            sum(c.frames for c in baseline.b_roll_clips)
    assert [c.source_in_frame for s in script.editing_script for c in s.b_roll_clips] != \
        [c.source_in_frame for s in plain.editing_script for c in s.b_roll_clips]
    assert done.usage.llm_calls == 1 and done.usage.cost_usd == pytest.approx(0.002)
    assert done.main_result.ranking == "scripted:scripted-1"


def test_an_unreadable_or_refused_answer_keeps_the_deterministic_order(blueprint_bytes):
    answers = iter([LlmResult(None, "not json", model_call(100, 5, 0.001))])
    deps = fake_deps(llm_for=lambda model: ScriptedLlm(lambda *_: next(answers)))
    _, script = _run(deps, {}, blueprint_bytes)
    baseline = _run(fake_deps(), {}, blueprint_bytes)[1]
    assert script is not None and baseline is not None
    assert script.ranking == "deterministic (model answers unusable)"
    assert any("not readable" in note for note in script.notes)
    assert [(c.scene_id, c.source_in_frame, c.frames) for s in script.editing_script
            for c in s.b_roll_clips] == [(c.scene_id, c.source_in_frame, c.frames)
                                         for s in baseline.editing_script
                                         for c in s.b_roll_clips]

    def refuse(*_: object) -> LlmResult[Any]:
        raise LlmError("blocked: SAFETY")

    deps = fake_deps(llm_for=lambda model: ScriptedLlm(refuse))
    _, refused = _run(deps, {}, blueprint_bytes)
    assert refused is not None and any("refused" in note for note in refused.notes)


def test_ranking_can_be_pinned_deterministic_or_required(blueprint_bytes):
    llm = ScriptedLlm(reversed_ranking)
    deps = fake_deps(llm_for=lambda model: llm)
    _, script = _run(deps, {"ranking": "deterministic"}, blueprint_bytes)
    assert script is not None and script.ranking == "deterministic" and not llm.prompts
    failed, _ = _run(fake_deps(), {"ranking": "gemini"}, blueprint_bytes)
    assert failed.status == TaskStatus.FAILED
    assert failed.error.details["errors"][0]["pointer"] == "/payload/service_params/ranking"
