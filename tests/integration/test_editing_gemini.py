"""Editing ranked by Gemini: the real google-genai client (GeminiWriter, wired as bootstrap
wires it) against the loopback FakeGemini, through the stage runner with fake storage."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.editing import edge_copy
from tests.support.fake_gemini import FakeGemini
from tests.support.fakes import fake_deps
from tests.support.tasks import valid_dataset
from vss.domain.artifacts import DubbingScript, EditingScript
from vss.domain.dataset import parse_dataset
from vss.domain.messages import StageMessage
from vss.domain.payloads import EditingServiceParams
from vss.domain.tasks import Stage, TaskStatus
from vss.editing.llm_ranking import SHOWN_PER_SEGMENT
from vss.editing.script import deterministic_rankings, prepare
from vss.service import stages, tasks
from vss.service.storage import TaskFiles
from vss.service.uploads import check_landed_object, store_upload


@pytest.fixture
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as server:
        yield server


def test_gemini_ranks_the_candidates_and_the_solver_still_covers_exactly(
        fake: FakeGemini, blueprint_bytes: bytes):
    dubbing = DubbingScript.model_validate(edge_copy())
    dataset = parse_dataset(blueprint_bytes)
    prepared = prepare(dubbing, dataset, EditingServiceParams())
    shown = [[s.candidate.id for s in ranked[:SHOWN_PER_SEGMENT]]
             for ranked in deterministic_rankings(prepared, dubbing)]
    # Gemini prefers, for every segment, what the deterministic ranking shows last.
    fake.reply_json({"segments": [{"segment": i, "candidate_ids": ids[::-1]}
                                  for i, ids in enumerate(shown)]}, usage=(5200, 400))

    # llm_for=None: the roots' own model factory, Gemini as these settings configure it.
    deps = fake_deps(llm_for=None, gemini_api_key="AIza-editing-test",
                     gemini_base_url=fake.url, gemini_attempts=1)
    blueprint = valid_dataset(deps, blueprint_bytes)
    record = store_upload(deps, "t1", "dubbing.json",
                          json.dumps(edge_copy(), ensure_ascii=False).encode())
    check_landed_object(deps, deps.settings.uploads_bucket,
                        f"tenants/t1/{record.relative_path}", record.generation)
    task = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_EDITING_SCRIPT",
        payload={"dubbing_script_path": record.relative_path, "blueprint_path": blueprint}))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.EDITING))
    done = deps.tasks.get(task.id)
    assert done is not None and done.status == TaskStatus.COMPLETED, done.error

    assert len(fake.requests) == 1
    body = fake.requests[0].body
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    ranking_schema = config["responseSchema"]["properties"]["segments"]["items"]
    assert set(ranking_schema["properties"]) == {"segment", "candidate_ids"}
    prompt = body["contents"][0]["parts"][0]["text"]
    assert all(f"[{ids[0]}]" in prompt for ids in shown)

    result = done.main_result
    assert result.ranking == "gemini:gemini-2.5-flash"
    assert done.usage.llm_input_tokens == 5200 and done.usage.llm_calls == 1
    script = EditingScript.model_validate_json(
        TaskFiles(deps, "t1", task.id).read(result.output_file_path))
    for segment, ids, dubbed in zip(script.editing_script, shown, dubbing.dubbing_script,
                                    strict=True):
        top = [c for c in segment.b_roll_clips if "rank 1 of" in (c.reason or "")]
        assert top and ids[-1].startswith(f"s{top[0].scene_id}.")
        assert "gemini:gemini-2.5-flash" in (top[0].reason or "")
        assert abs(sum(c.frames for c in segment.b_roll_clips) / script.fps
                   - dubbed.duration_seconds) <= 1 / script.fps
