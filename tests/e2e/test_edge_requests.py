"""The edge's own GENERATE_NARRATION and LOCALIZE_NARRATION requests (tests/data/edge/) over
HTTP against the whole local stack, and a localisation with the Gemini writer (the real
google-genai client against the loopback fake) run against the emulators."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.support.edge_api import edge_request, with_service_params
from tests.support.fake_gemini import FakeGemini
from tests.support.fakes import SwitchableFactory
from tests.support.stack import stack_settings
from tests.support.translation import english, rendering
from vss.adapters.gemini import GeminiWriter
from vss.bootstrap.models import gemini_factory
from vss.bootstrap.stage_worker import for_stage_worker, narration_config
from vss.domain import tasks as rules
from vss.domain.artifacts import NarrationScript
from vss.domain.dataset import parse_dataset
from vss.domain.messages import StageMessage
from vss.domain.tasks import Stage, TaskStatus, TaskType
from vss.edge.client import ApiError, EdgeClient
from vss.errors import LlmError
from vss.narration.localize import slots
from vss.narration.translate import glossary_terms
from vss.service import stages, uploads
from vss.service.storage import TaskFiles

pytestmark = pytest.mark.integration


def _send(edge: EdgeClient, body: dict[str, Any]) -> dict[str, Any]:
    return edge.wait(edge.create_task(body["task_type"], body["payload"])["id"], timeout=240)


@pytest.fixture(scope="module")
def narrated(edge: EdgeClient, dataset_path: str) -> dict[str, Any]:
    return _send(edge, edge_request("generate_narration", blueprint_path=dataset_path))


def test_the_edges_narration_request_over_http(edge: EdgeClient, narrated):
    assert narrated["status"] == "COMPLETED", narrated["error"]
    script = NarrationScript.model_validate_json(edge.download_result(narrated["id"]))
    for snippet in script.narration_script:
        assert snippet.pacing is not None and snippet.pacing.speech_rate == 4.2
        assert snippet.pacing.budget_seconds == snippet.pacing.slot_seconds
        assert snippet.pacing.estimated_seconds <= snippet.pacing.budget_seconds


def test_a_rate_sent_as_a_multiplier_is_a_400_pointing_at_it(edge: EdgeClient,
                                                             dataset_path: str):
    body = with_service_params(edge_request("generate_narration", blueprint_path=dataset_path),
                               speaking_rate=1.0)
    with pytest.raises(ApiError) as caught:
        edge.create_task(body["task_type"], body["payload"])
    assert caught.value.status == 400
    assert [e["pointer"] for e in caught.value.body["details"]["errors"]] == [
        "/payload/service_params/speaking_rate"]


def test_the_edges_localisation_without_gemini_fails_saying_what_to_configure(
        edge: EdgeClient, dataset_path: str, narrated):
    task = _send(edge, edge_request("localize_narration", blueprint_path=dataset_path,
                                    master_script_path=narrated["result"]["output_file_path"]))
    assert task["status"] == "FAILED" and task["error"]["code"] == LlmError.code
    assert "VSS_GEMINI_API_KEY" in task["error"]["message"]


def test_a_localisation_with_gemini_against_the_emulators(blueprint_bytes: bytes):
    settings = stack_settings()
    models = SwitchableFactory(gemini_factory(settings))  # the master: as the stack has it
    deps = for_stage_worker(settings, llm_for=models)
    tenant = f"t_{uuid.uuid4().hex[:8]}"
    dataset = parse_dataset(blueprint_bytes)
    record = uploads.store_upload(deps, tenant, "blueprint.json", blueprint_bytes)

    def run(task_type: TaskType, payload: dict[str, Any]) -> rules.Task:
        task = rules.new_task(task_id=uuid.uuid4().hex, tenant_id=tenant, task_type=task_type,
                              payload=payload, waiting_on=[], now=deps.clock(),
                              deadline=timedelta(minutes=5))
        deps.tasks.add(task)
        stages.run_stage(deps, StageMessage(task_id=task.id, stage=task.stages[0]))
        done = deps.tasks.get(task.id)
        assert done is not None and done.status == TaskStatus.COMPLETED, done and done.error
        return done

    narration_body = edge_request("generate_narration", blueprint_path=record.relative_path)
    narrated = run(TaskType.GENERATE_NARRATION, narration_body["payload"])
    assert narrated.main_result is not None
    master = NarrationScript.model_validate_json(
        TaskFiles(deps, tenant, narrated.id).read(narrated.main_result.output_file_path))
    texts = [s.narration for s in master.narration_script]
    terms = glossary_terms(dataset, texts)
    plan = slots(master, dataset, "en", -0.15,
                 narration_config(deps.settings).rate.with_rate("en", 2.5))
    with FakeGemini() as fake:
        models.factory = lambda model: GeminiWriter(
            model=model or "gemini-2.5-flash", api_key="test-key", base_url=fake.url,
            initial_delay_s=0.01, max_delay_s=0.02)
        fake.reply_json({"entries": [{"source": t, "target": rendering(t)} for t in terms]})
        fake.reply_json({"items": [
            {"index": s.index, "narration": english(
                round(s.budget_units * 0.8),
                [rendering(t) for t in terms if t in texts[s.index]])}
            for s in plan.snippets]})
        body = edge_request("localize_narration", blueprint_path=record.relative_path,
                            master_script_path=narrated.main_result.output_file_path)
        localised = run(TaskType.LOCALIZE_NARRATION, body["payload"])
        assert fake.pending == 0

    result = localised.results[Stage.LOCALIZATION]
    attempt = localised.current.attempt
    assert result.output_file_path == f"tasks/{localised.id}/{attempt}/narration_en.json"
    script = NarrationScript.model_validate_json(
        TaskFiles(deps, tenant, localised.id).read(result.output_file_path))
    assert script.lang == "en" and script.engine == "gemini"
    assert [s.source_scene_ids for s in script.narration_script] == [
        s.source_scene_ids for s in master.narration_script]
    assert localised.usage.llm_calls == 2
