"""Faults while several dubbing tasks run on the whole local stack: the TTS worker paused
longer than a segment lease, the stage worker killed mid-stage, a task failed mid-fan-out and
resumed. Every task completes, and every file it publishes is the file its results describe.

The local stack's leases are short (a stage 6 s, a segment 8 s, the watchdog 10 s: see
`emulators/localenv.py`), so a pause of a few seconds makes twins that overlap for real.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time

import numpy as np
import pytest

from tests.support.stack import (
    function_pid,
    log_file,
    logged_since,
    restart_stack,
    stack_settings,
    wait_until,
)
from tests.support.tasks import segments_of
from vss.bootstrap import ports_alone
from vss.bootstrap.tts_worker import for_tts_worker
from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.artifacts import DubbingScript
from vss.domain.audio import wav_duration_seconds
from vss.domain.leases import LeaseState
from vss.domain.messages import SegmentMessage
from vss.domain.segments import SegmentClaim
from vss.domain.tasks import Stage, TaskError
from vss.dubbing.audio import decode_wav
from vss.edge.client import EdgeClient
from vss.service.segments import run_segment

pytestmark = pytest.mark.integration
TASKS = 5


def _create(edge: EdgeClient, narration_path: str) -> list[str]:
    return [edge.create_task("GENERATE_DUBBING", {"input_narration_path": narration_path})["id"]
            for _ in range(TASKS)]


def _describe(deps: Deps, task_id: str) -> str:
    """Where a task that did not end stands, and what the workers last logged about it."""
    task = deps.tasks.get(task_id)
    assert task is not None
    lines = [f"task {task_id} {task.status}: {task.current!r}", f"progress: {task.progress!r}"]
    lines += [f"segment {s.index}: {s.state} attempts={s.attempts} until={s.lease_until}"
              for s in segments_of(deps, task_id)]
    for name in ("stage_worker", "tts_worker", "deadline", "push_relay"):
        lines += [f"{name}: {line[:300]}" for line in logged_since(name, 0)
                  if task_id in line or "WARN" in line or "ERROR" in line][-15:]
    return "\n".join(lines)


def _any_running(deps: Deps, ids: list[str], stage: bool) -> bool:
    for task_id in ids:
        task = deps.tasks.get(task_id)
        if task is None:
            continue
        if stage and task.current.state == LeaseState.RUNNING:
            return True
        if not stage and any(s.state == LeaseState.RUNNING for s in segments_of(deps, task_id)):
            return True
    return False


def _freeze_tts_worker_holding_segments(deps: Deps, ids: list[str]
                                        ) -> list[tuple[str, str, int]]:
    """SIGSTOP the TTS worker at a moment it holds segments; (task, plan, index) of each."""
    for _ in range(20):
        wait_until(lambda: _any_running(deps, ids, stage=False), timeout=120, interval=0.02)
        os.killpg(function_pid("tts_worker"), signal.SIGSTOP)
        held = [(task_id, segment_plan, s.index) for task_id in ids
                if (segment_plan := _plan(deps, task_id))
                for s in segments_of(deps, task_id) if s.state == LeaseState.RUNNING]
        if held:
            return held
        os.killpg(function_pid("tts_worker"), signal.SIGCONT)  # it finished them first: again
    raise AssertionError("the TTS worker was never caught holding a segment")


def _plan(deps: Deps, task_id: str) -> str | None:
    task = deps.tasks.get(task_id)
    return task.progress.plan if task is not None and task.progress else None


def _verify(edge: EdgeClient, deps: Deps, task_id: str) -> None:
    """What the edge downloads is exactly what the task's results and script record."""
    task = deps.tasks.get(task_id)
    assert task is not None and task.main_result is not None
    recorded = {d.path: d for result in task.results.values() for d in result.artifacts}
    for path, digest in recorded.items():
        data = edge.download_path(path)
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (digest.sha256, digest.size)
    script = DubbingScript.model_validate_json(edge.download_result(task_id))
    pieces = []
    for entry in script.dubbing_script:
        assert entry.audio_file_path in recorded
        wav = edge.download_path(entry.audio_file_path)
        assert wav_duration_seconds(wav) == pytest.approx(entry.duration_seconds, abs=0.001)
        pieces.append(decode_wav(wav)[0])
    assert script.narration_track_path is not None
    track, _ = decode_wav(edge.download_path(script.narration_track_path))
    np.testing.assert_allclose(track, np.concatenate(pieces), atol=1.5 / 32768)
    # A segment is synthesised by its attempt and, at most, by one twin that overlapped it.
    assert max(s.attempts for s in segments_of(deps, task_id)) <= 2


@pytest.mark.timeout(1200)
def test_faults_during_dubbing_tasks_leave_every_task_complete_and_consistent(
    edge: EdgeClient, narration_path: str,
):
    deps = ports_alone(stack_settings())
    lease = deps.settings.segment_lease_seconds
    offsets = {name: log_file(name).stat().st_size for name in ("stage_worker", "tts_worker")}
    ids = _create(edge, narration_path)

    # The stage worker dies mid-stage (a plan, most likely); redelivery retakes it.
    wait_until(lambda: _any_running(deps, ids, stage=True), timeout=60, interval=0.02)
    os.killpg(function_pid("stage_worker"), signal.SIGKILL)
    restart_stack()

    # The TTS worker freezes with segments in hand, longer than their lease; another worker
    # instance (this process) retakes them as the watchdog's republish would, and finishes
    # them; then the frozen worker wakes and finishes its now stale attempts. A second wave of
    # tasks: the first may have synthesised every segment while the stage worker restarted.
    ids += _create(edge, narration_path)
    frozen = _freeze_tts_worker_holding_segments(deps, ids[TASKS:])
    time.sleep(lease + 1)
    twin = for_tts_worker(deps.settings)
    for task_id, plan, index in frozen:
        message = SegmentMessage(task_id=task_id, plan=plan, index=index)
        assert run_segment(twin, message) == SegmentClaim.RUN
    os.killpg(function_pid("tts_worker"), signal.SIGCONT)
    wait_until(lambda: sum("stale attempt" in line for line in logged_since(
        "tts_worker", offsets["tts_worker"])) >= len(frozen), timeout=60)

    # One task fails mid-fan-out (as its deadline would) and is resumed by its edge.
    victim = ids[-1]
    waiting = wait_until(lambda: (t := deps.tasks.get(victim)) and (
        t.current.state == LeaseState.WAITING or t.is_terminal) and t, timeout=120)
    if not waiting.is_terminal:
        deps.tasks.update(victim, lambda t: t if t.is_terminal else rules.fail(t, TaskError(
            code=2004, message="The task did not finish before its deadline."), deps.clock()))
        resumed = edge.resume_task(victim)
        assert resumed["status"] == "RUNNING"

    for task_id in ids:
        # 480 s: a worker killed inside a transaction leaves its locks in the emulator for
        # about 5 minutes (emulators/README.md).
        try:
            done = edge.wait(task_id, timeout=480)
        except TimeoutError as exc:
            raise AssertionError(_describe(deps, task_id)) from exc
        assert done["status"] == "COMPLETED", (task_id, done["error"])
        _verify(edge, deps, task_id)
    final = deps.tasks.get(victim)
    assert final is not None and final.results.keys() >= {Stage.DUBBING, Stage.DUBBING_ASSEMBLY}

    for name, offset in offsets.items():
        errors = [line for line in logged_since(name, offset) if '"severity": "ERROR"' in line]
        assert errors == [], f"{name} logged an ERROR for a handled race"
