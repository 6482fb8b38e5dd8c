"""Per-tenant quotas on fakes: 429 with Retry-After and the quota's code at task creation and
upload, overrides through `vss admin set-quota`, one tenant's exhaustion leaving the others
alone, and stages that fail with the quota's code before they spend."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.fake_audio import RecordingSpeechEngine
from tests.support.fakes import FakeClock, ScriptedLlm, fake_deps
from tests.support.tasks import valid_dataset
from vss.api.app import create_app
from vss.cli import main
from vss.deps import Deps
from vss.domain.messages import StageMessage
from vss.domain.tasks import Stage, TaskStatus
from vss.domain.usage import Usage
from vss.errors import (
    LlmTokensQuotaExceeded,
    RunningTasksQuotaExceeded,
    TasksPerHourQuotaExceeded,
    TtsCharactersQuotaExceeded,
    UploadBytesQuotaExceeded,
)
from vss.service import auth, stages, tasks

DAY = 24 * 3600  # the fake clock starts at midnight UTC


class Tenant:
    """A tenant of the API on `deps`, with its checked dataset."""

    def __init__(self, deps: Deps, client: FlaskClient, blueprint: bytes, name: str) -> None:
        creds = auth.create_tenant(deps, name)
        self.id = creds.tenant_id
        self.client = client
        self.headers = {"X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key}
        self.dataset = valid_dataset(deps, blueprint, tenant=self.id)

    def create(self, key: str | None = None) -> Any:
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        return self.client.post("/api/v1/tasks/", headers=headers, json={
            "task_type": "GENERATE_NARRATION", "payload": {"blueprint_path": self.dataset}})

    def upload(self, size: int) -> Any:
        data = b"{" + b" " * (size - 2) + b"}"
        return self.client.post("/api/v1/files/upload/", headers=self.headers,
                                data={"file": (io.BytesIO(data), "d.json")})

    def sign(self, size: int) -> Any:
        return self.client.post("/api/v1/files/upload/", headers=self.headers,
                                json={"filename": "d.json", "size": size})


def _setup(blueprint: bytes, **settings: object) -> tuple[Deps, Tenant, Tenant]:
    deps = fake_deps(**settings)
    client = create_app(deps).test_client()
    return deps, Tenant(deps, client, blueprint, "acme"), Tenant(deps, client, blueprint, "other")


def _clock(deps: Deps) -> FakeClock:
    assert isinstance(deps.clock, FakeClock)
    return deps.clock


def _refused(answer: Any, error: type, retry_after: int) -> dict[str, Any]:
    """The 429's details, once its code and Retry-After are as expected."""
    assert answer.status_code == 429, answer.get_json()
    body = answer.get_json()
    assert body["code"] == error.code
    assert answer.headers["Retry-After"] == str(retry_after)
    assert body["details"]["retry_after_seconds"] == retry_after
    details: dict[str, Any] = body["details"]
    return details


def test_running_tasks_over_the_limit_are_429_until_one_ends(blueprint_bytes: bytes):
    deps, acme, other = _setup(blueprint_bytes, quota_running_tasks=2)
    first = acme.create().get_json()
    assert acme.create().status_code == 202
    details = _refused(acme.create(), RunningTasksQuotaExceeded, 30)
    assert details == {"quota": "running_tasks", "limit": 2, "used": 2, "requested": 1,
                       "retry_after_seconds": 30}
    assert other.create().status_code == 202  # another tenant counts its own
    tasks.cancel_task(deps, acme.id, first["id"])
    assert acme.create().status_code == 202


def test_tasks_per_hour_come_back_when_the_oldest_leaves_the_hour(blueprint_bytes: bytes):
    deps, acme, other = _setup(blueprint_bytes, quota_tasks_per_hour=2)
    clock = _clock(deps)
    assert acme.create().status_code == 202
    clock.advance(600)
    assert acme.create().status_code == 202
    clock.advance(600)
    details = _refused(acme.create(), TasksPerHourQuotaExceeded, 2400)
    assert (details["limit"], details["used"]) == (2, 2)
    assert other.create().status_code == 202
    clock.advance(2399)
    assert acme.create().status_code == 429
    clock.advance(1)
    assert acme.create().status_code == 202


def test_a_refused_creation_leaves_its_idempotency_key_unused(blueprint_bytes: bytes):
    deps, acme, _ = _setup(blueprint_bytes, quota_running_tasks=1)
    running = acme.create().get_json()
    assert acme.create(key="k1").status_code == 429
    tasks.cancel_task(deps, acme.id, running["id"])
    assert acme.create(key="k1").status_code == 202


def test_upload_bytes_per_day_count_multipart_and_signed_uploads(blueprint_bytes: bytes):
    size = len(blueprint_bytes)  # the dataset each tenant uploaded
    deps, acme, other = _setup(blueprint_bytes, quota_upload_bytes_per_day=size + 100,
                               max_upload_bytes=10 * size)
    assert acme.upload(60).status_code == 201
    details = _refused(acme.sign(41), UploadBytesQuotaExceeded, DAY)
    assert details == {"quota": "upload_bytes_per_day", "limit": size + 100, "used": size + 60,
                       "requested": 41, "retry_after_seconds": DAY}
    assert acme.sign(40).status_code == 201  # its declared size counts when it is issued
    _refused(acme.upload(2), UploadBytesQuotaExceeded, DAY)
    assert other.upload(100).status_code == 201
    _clock(deps).advance(DAY)  # a new UTC day
    assert acme.upload(size).status_code == 201


@pytest.mark.parametrize(("spent", "error"), [
    (Usage(tts_characters=1000), TtsCharactersQuotaExceeded),
    (Usage(llm_input_tokens=900, llm_output_tokens=100), LlmTokensQuotaExceeded),
])
def test_a_day_at_its_speech_or_token_limit_refuses_new_tasks(
        blueprint_bytes: bytes, spent: Usage, error: type):
    deps, acme, other = _setup(blueprint_bytes, quota_tts_characters_per_day=1000,
                               quota_llm_tokens_per_day=1000)
    deps.usage.charge(acme.id, deps.clock(), spent)
    _refused(acme.create(), error, DAY)
    assert other.create().status_code == 202
    _clock(deps).advance(DAY)
    assert acme.create().status_code == 202


def _admin(capsys: pytest.CaptureFixture[str], deps: Deps, *argv: str) -> Any:
    assert main(["admin", *argv], deps=deps) == 0
    return json.loads(capsys.readouterr().out)


def test_set_quota_overrides_the_default_for_one_tenant(
        blueprint_bytes: bytes, capsys: pytest.CaptureFixture[str]):
    deps, acme, other = _setup(blueprint_bytes, quota_running_tasks=1)
    assert acme.create().status_code == 202 and other.create().status_code == 202
    assert acme.create().status_code == 429
    shown = _admin(capsys, deps, "set-quota", acme.id, "--running-tasks", "3",
                   "--tasks-per-hour", "unlimited")
    assert shown["limits"]["running_tasks"] == 3 and shown["limits"]["tasks_per_hour"] is None
    assert shown["overrides"] == {"running_tasks": 3, "tasks_per_hour": "unlimited"}
    assert shown["used"]["running_tasks"] == 1
    assert acme.create().status_code == 202
    assert other.create().status_code == 429  # still the default
    _admin(capsys, deps, "set-quota", acme.id, "--running-tasks", "unlimited")
    assert acme.create().status_code == 202
    shown = _admin(capsys, deps, "set-quota", acme.id, "--running-tasks", "default")
    assert shown["limits"]["running_tasks"] == 1 and "running_tasks" not in shown["overrides"]
    assert acme.create().status_code == 429
    assert _admin(capsys, deps, "show-quota", acme.id)["used"]["tasks_per_hour"] == 3


def test_set_quota_refuses_bad_values_and_unknown_tenants(
        blueprint_bytes: bytes, capsys: pytest.CaptureFixture[str]):
    deps, acme, _ = _setup(blueprint_bytes)
    for argv in (["set-quota", acme.id, "--running-tasks", "-1"],
                 ["set-quota", acme.id, "--tasks-per-hour", "many"]):
        with pytest.raises(SystemExit) as usage:
            main(["admin", *argv], deps=deps)
        assert usage.value.code == 2
    assert main(["admin", "set-quota", acme.id], deps=deps) == 2  # nothing to set
    assert main(["admin", "set-quota", "t_nobody", "--running-tasks", "1"], deps=deps) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_dubbing_over_the_days_speech_quota_fails_before_any_synthesis(
        narration_path: tuple[Deps, str], speech: RecordingSpeechEngine):
    shared, path = narration_path
    deps = fake_deps(speech, quota_tts_characters_per_day=50)
    deps.blobs = shared.blobs
    task = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_DUBBING", payload={"input_narration_path": path}))
    published = len(deps.publisher.published)  # type: ignore[attr-defined]
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.DUBBING))
    failed = deps.tasks.get(task.id)
    assert failed is not None and failed.status == TaskStatus.FAILED
    assert failed.error is not None and failed.error.code == TtsCharactersQuotaExceeded.code
    assert failed.error.details["quota"] == "tts_characters_per_day"
    assert failed.error.details["limit"] == 50 and failed.error.details["requested"] > 50
    assert speech.requests == []
    assert deps.segments.list_for_task(task.id, failed.progress.plan if failed.progress
                                       else "") == []
    assert len(deps.publisher.published) == published  # type: ignore[attr-defined]


def test_a_model_call_over_the_days_token_quota_fails_the_task_before_it_is_made(
        blueprint_bytes: bytes):
    llm = ScriptedLlm(lambda system, prompt, schema: pytest.fail("the model was called"))
    deps = fake_deps(llm_for=lambda model: llm, quota_llm_tokens_per_day=100_000)
    path = valid_dataset(deps, blueprint_bytes)
    task = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_NARRATION", payload={"blueprint_path": path}))
    # Another task of the day spent nearly all of it; the check sees the ledger.
    deps.usage.charge("t1", deps.clock(), Usage(llm_input_tokens=99_990))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION))
    failed = deps.tasks.get(task.id)
    assert failed is not None and failed.status == TaskStatus.FAILED
    assert failed.error is not None and failed.error.code == LlmTokensQuotaExceeded.code
    assert failed.error.details["used"] == 99_990 and failed.error.details["limit"] == 100_000
    assert llm.prompts == []


def test_the_token_quota_counts_what_the_attempt_already_spent(blueprint_bytes: bytes):
    from tests.support.fakes import model_call
    from vss.ports import LlmResult

    llm = ScriptedLlm(lambda system, prompt, schema: LlmResult(
        None, "not json", model_call(29_000, 500, 0.01)))
    deps = fake_deps(llm_for=lambda model: llm, quota_llm_tokens_per_day=30_000,
                     narration_prompt_budget_tokens=2_000)
    task = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_NARRATION",
        payload={"blueprint_path": valid_dataset(deps, blueprint_bytes)}))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.NARRATION))
    failed = deps.tasks.get(task.id)
    assert failed is not None and failed.status == TaskStatus.FAILED
    assert failed.error is not None and failed.error.code == LlmTokensQuotaExceeded.code
    assert len(llm.prompts) == 1  # the second call would have passed the quota
    assert failed.usage.llm_input_tokens == 29_000  # the call made is still charged
    assert deps.usage.days(deps.clock().date(), deps.clock().date())[0].usage.llm_calls == 1


def test_other_tenants_run_when_one_exhausted_its_day(blueprint_bytes: bytes):
    deps, acme, other = _setup(blueprint_bytes, quota_llm_tokens_per_day=10)
    deps.usage.charge(acme.id, deps.clock(), Usage(llm_output_tokens=10))
    assert acme.create().status_code == 429
    created = other.create()
    assert created.status_code == 202
    stages.run_stage(deps, StageMessage(task_id=created.get_json()["id"],
                                        stage=Stage.NARRATION))
    done = deps.tasks.get(created.get_json()["id"])
    assert done is not None and done.status == TaskStatus.COMPLETED  # the offline writer
