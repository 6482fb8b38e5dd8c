"""GENERATE_NARRATION with the Gemini writer: the real google-genai client against a loopback
fake Gemini, the stage run against the emulators (Firestore, fake-gcs)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from tests.support.fake_gemini import FakeGemini
from tests.support.stack import stack_settings
from vss.adapters.gemini import GeminiWriter
from vss.bootstrap.stage_worker import for_stage_worker
from vss.domain import tasks as rules
from vss.domain.dataset import parse_dataset
from vss.domain.messages import StageMessage
from vss.domain.payloads import NarrationServiceParams
from vss.domain.tasks import Stage, TaskStatus, TaskType
from vss.handler_config import NarrationConfig
from vss.narration.compose import plan_for
from vss.service import stages, uploads
from vss.service.storage import TaskFiles

pytestmark = pytest.mark.integration

SERVICE_PARAMS = {"lang": "zh", "control_params": {
    "scope": {"type": "scene_selection", "value": "1-9"}, "target_duration_minutes": 1,
    "style": "suspense"}}


def test_narration_stage_with_gemini(blueprint_bytes: bytes):
    with FakeGemini() as fake:
        deps = for_stage_worker(stack_settings(), llm_for=lambda model: GeminiWriter(
            model=model or "gemini-2.5-flash", api_key="test-key", base_url=fake.url,
            initial_delay_s=0.01, max_delay_s=0.02))
        tenant = f"t_{uuid.uuid4().hex[:8]}"
        record = uploads.store_upload(deps, tenant, "blueprint.json", blueprint_bytes)
        plan = plan_for(parse_dataset(blueprint_bytes),
                        NarrationServiceParams.model_validate(SERVICE_PARAMS), NarrationConfig())
        first, *rest = plan.snippets
        fake.reply_status(429, "slow down")  # retried by the client
        fake.reply_text("I think the answer is {not json", usage=(100, 10))  # malformed
        fake.reply_json({"snippets": [
            {"index": first.index, "narration": "（紧张）" + "她终于走进了那家咖啡店。" * 30,
             "source_scene_ids": [first.scene_ids[0], 999]},
            *({"index": s.index, "narration": "命运的齿轮开始转动。",
               "source_scene_ids": list(s.scene_ids)} for s in rest)]}, usage=(1200, 300))
        fake.reply_json({"items": [{"index": first.index,
                                    "narration": "她走进咖啡店，好戏开场。"}]}, usage=(200, 40))
        task = rules.new_task(
            task_id=uuid.uuid4().hex, tenant_id=tenant, task_type=TaskType.GENERATE_NARRATION,
            payload={"blueprint_path": record.relative_path, "service_params": SERVICE_PARAMS},
            waiting_on=[], now=deps.clock(), deadline=timedelta(minutes=5))
        deps.tasks.add(task)
        stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION))
        sent = [r.body for r in fake.requests]

    done = deps.tasks.get(task.id)
    assert done is not None and done.status == TaskStatus.COMPLETED, done and done.error
    assert done.usage.llm_calls == 3 and done.usage.llm_input_tokens == 1500
    assert done.usage.cost_usd == pytest.approx((1500 * 0.30 + 350 * 2.50) / 1e6)
    script = json.loads(TaskFiles(deps, tenant, task.id).read(done.main_result.output_file_path))
    assert script["engine"] == "gemini" and script["prompt_version"] == "v2"
    opening = script["narration_script"][0]
    assert opening["narration"] == "她走进咖啡店，好戏开场。"
    assert opening["pacing"]["action"] == "rewritten" and opening["source_scene_ids"] == [
        first.scene_ids[0]]
    assert len(sent) == 4  # 429, malformed, draft (asked with the repair prompt), rewrite
    config = sent[0]["generationConfig"]
    assert config["responseMimeType"] == "application/json" and "responseSchema" in config
    assert "not valid JSON" in sent[2]["contents"][0]["parts"][0]["text"]
