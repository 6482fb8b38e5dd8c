"""The stage handlers on the real blueprint, through the stage runner with fake ports."""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.support.fake_audio import RecordingSpeechEngine
from tests.support.fakes import FakePublisher, ScriptedLlm, fake_deps, model_call
from tests.support.tasks import deliver_published, narration_task, valid_dataset
from vss.deps import Deps
from vss.domain.artifacts import DubbingScript, EditingScript, NarrationScript
from vss.domain.audio import wav_duration_seconds
from vss.domain.dataset import parse_dataset
from vss.domain.language import SpeechRate
from vss.domain.messages import StageMessage
from vss.domain.tasks import Stage, TaskStatus
from vss.domain.timecode import Timecode
from vss.domain.usage import Usage
from vss.errors import LlmError, RateLimited, RetryableError
from vss.narration.pacing import speech_seconds
from vss.ports import LlmResult
from vss.service import stages, tasks
from vss.service.storage import TaskFiles


def _run_to_end(deps: Deps, task_id: str, stage: Stage) -> dict:
    """Run the task's first stage, then deliver what it publishes (segments, later stages)."""
    assert isinstance(deps.publisher, FakePublisher)
    start = len(deps.publisher.published)
    stages.run_stage(deps, StageMessage(task_id=task_id, stage=stage))
    deliver_published(deps, start)
    task = deps.tasks.get(task_id)
    assert task is not None and task.status == TaskStatus.COMPLETED, task and task.error
    assert task.main_result is not None
    return task.main_result.as_seed_result()


def _read(deps: Deps, task_id: str, path: str) -> bytes:
    return TaskFiles(deps, "t1", task_id).read(path)


@pytest.fixture(scope="module")
def pipeline(blueprint_bytes: bytes) -> tuple[Deps, dict[str, bytes]]:
    deps = fake_deps()
    dataset_path = valid_dataset(deps, blueprint_bytes)
    narration = narration_task(deps, dataset_path)
    n_result = _run_to_end(deps, narration.id, Stage.NARRATION)
    dub = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_DUBBING",
        payload={"input_narration_path": n_result["output_file_path"]}))
    d_result = _run_to_end(deps, dub.id, Stage.DUBBING)
    edit = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_EDITING_SCRIPT",
        payload={"input_dubbing_path": d_result["output_file_path"],
                 "blueprint_path": dataset_path}))
    e_result = _run_to_end(deps, edit.id, Stage.EDITING)
    return deps, {
        "narration": _read(deps, narration.id, n_result["output_file_path"]),
        "dubbing": _read(deps, dub.id, d_result["output_file_path"]),
        "editing": _read(deps, edit.id, e_result["output_file_path"]),
        "dub_task": dub.id.encode(),
    }


def test_narration_fits_the_footage_and_cites_real_scenes(pipeline, blueprint_bytes):
    _, out = pipeline
    dataset = parse_dataset(blueprint_bytes)
    script = NarrationScript.model_validate_json(out["narration"])
    assert script.engine == "offline" and script.notes
    cited = [i for s in script.narration_script for i in s.source_scene_ids]
    assert set(cited) <= set(dataset.scenes) and len(cited) == len(set(cited))
    for snippet in script.narration_script:
        assert snippet.pacing is not None
        # It cites the scenes its words come from, inside the footage it was planned over.
        cited_footage = sum(dataset.scenes[i].duration for i in snippet.source_scene_ids)
        assert cited_footage <= snippet.pacing.footage_seconds + 1e-6
        assert snippet.pacing.budget_seconds <= snippet.pacing.footage_seconds + 1e-6
        assert speech_seconds(snippet.narration, "zh") <= snippet.pacing.budget_seconds


def test_a_slower_speaking_rate_gets_less_text_for_the_same_footage(blueprint_bytes):
    # speaking_rate is the narration's speech rate in Chinese characters per second.
    deps = fake_deps()
    dataset_path = valid_dataset(deps, blueprint_bytes)
    scripts = {}
    for rate in (4.5, 2.25):
        task = tasks.create_task(deps, "t1", tasks.CreateTask(
            task_type="GENERATE_NARRATION",
            payload={"blueprint_path": dataset_path,
                     "service_params": {"speaking_rate": rate}}))
        result = _run_to_end(deps, task.id, Stage.NARRATION)
        scripts[rate] = NarrationScript.model_validate_json(
            _read(deps, task.id, result["output_file_path"]))
    slow = scripts[2.25].narration_script
    assert {s.pacing.speech_rate for s in slow if s.pacing} == {2.25}
    for snippet in slow:
        assert snippet.pacing is not None
        spoken = speech_seconds(snippet.narration, "zh", SpeechRate(zh_chars_per_second=2.25))
        assert spoken <= snippet.pacing.budget_seconds
    slow_chars = sum(len(s.narration) for s in slow)
    assert slow_chars < 0.7 * sum(len(s.narration) for s in scripts[4.5].narration_script)


def test_dubbing_writes_one_wav_per_snippet_with_its_duration(pipeline):
    deps, out = pipeline
    narration = NarrationScript.model_validate_json(out["narration"])
    dubbing = DubbingScript.model_validate_json(out["dubbing"])
    assert len(dubbing.dubbing_script) == len(narration.narration_script)
    task_id = out["dub_task"].decode()
    task = deps.tasks.get(task_id)
    assert task is not None and task.main_result is not None
    published = {d.path: d for d in task.main_result.artifacts}
    for index, segment in enumerate(dubbing.dubbing_script):
        # In the folder of the segment's attempt, under the edge-visible basename.
        assert re.fullmatch(rf"tasks/{task_id}/[0-9a-f]{{16}}/dubbing/narration_{index:03d}\.wav",
                            segment.audio_file_path)
        wav = _read(deps, task_id, segment.audio_file_path)
        assert wav_duration_seconds(wav) == pytest.approx(segment.duration_seconds, abs=0.001)
        digest = published[segment.audio_file_path]
        assert (digest.sha256, digest.size) == (hashlib.sha256(wav).hexdigest(), len(wav))
    total = sum(s.duration_seconds for s in dubbing.dubbing_script)
    assert dubbing.total_duration == pytest.approx(total, abs=0.01)


def test_editing_covers_each_segment_to_the_frame_inside_its_scenes(pipeline, blueprint_bytes):
    _, out = pipeline
    dataset = parse_dataset(blueprint_bytes)
    editing = EditingScript.model_validate_json(out["editing"])
    frame = 1 / editing.fps
    shown: list[tuple[int, int, int]] = []  # (chapter, first ms, last ms)
    for segment in editing.editing_script:
        covered = sum(c.duration for c in segment.b_roll_clips)
        assert covered == pytest.approx(segment.narration_duration, abs=frame)
        for clip in segment.b_roll_clips:
            scene = dataset.scenes[clip.scene_id]
            start, end = Timecode.parse(clip.start_time), Timecode.parse(clip.end_time)
            assert start >= scene.start and end <= scene.end
            # No source range is shown twice.
            assert all(c != clip.chapter_id or end.ms <= a or start.ms >= b
                       for c, a, b in shown)
            shown.append((clip.chapter_id, start.ms, end.ms))


def test_tokens_spent_by_failed_attempts_are_charged_to_the_task(blueprint_bytes):
    failures = iter([RateLimited("429 after retries"), LlmError("refused")])

    def respond(system: str, prompt: str, schema: type) -> LlmResult:
        if "previous snippet ended" in prompt:  # the second chunk's call fails
            raise next(failures)
        return LlmResult(None, "not json", model_call(1000, 100, 0.01))

    deps = fake_deps(llm_for=lambda model: ScriptedLlm(respond),
                     narration_prompt_budget_tokens=2_000)
    task = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    message = StageMessage(task_id=task.id, stage=Stage.NARRATION)
    with pytest.raises(RetryableError):
        stages.run_stage(deps, message)
    after_retry = deps.tasks.get(task.id)
    assert after_retry is not None
    # The first chunk's call and its repair retry were paid for, though nothing was written.
    assert after_retry.usage == Usage(llm_input_tokens=2000, llm_output_tokens=200,
                                      llm_calls=2, cost_usd=0.02)
    stages.run_stage(deps, message)
    failed = deps.tasks.get(task.id)
    assert failed is not None and failed.status == TaskStatus.FAILED
    assert failed.usage.llm_calls == 4 and failed.usage.cost_usd == pytest.approx(0.04)


def test_dubbing_speaks_through_the_speech_engine_port_as_the_edge_asks(blueprint_bytes):
    speech = RecordingSpeechEngine()
    deps = fake_deps(speech)
    narration = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    n_result = _run_to_end(deps, narration.id, Stage.NARRATION)
    dub = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_DUBBING",
        payload={"input_narration_path": n_result["output_file_path"],
                 "service_params": {"template_name": "chinese_paieas_replication",
                                    "speed": 1.2}}))
    result = _run_to_end(deps, dub.id, Stage.DUBBING)
    script = NarrationScript.model_validate_json(
        _read(deps, narration.id, n_result["output_file_path"]))
    spoken = "".join(r.text for r in speech.requests)
    assert all(s.narration[:6] in spoken for s in script.narration_script)
    assert {(r.rate, r.lang) for r in speech.requests} == {(1.2, "zh")}
    # No cloud credentials: the cloned voice is spoken offline, and the script says why.
    dubbing = DubbingScript.model_validate_json(_read(deps, dub.id, result["output_file_path"]))
    assert result["engine"] == "fake-engine"
    assert all(s.fallback_reason for s in dubbing.dubbing_script)
