"""The dubbing fan-out on the whole local stack: segments synthesised by the TTS worker in
parallel, progress on the task, a killed worker recovered by redelivery, duplicates ignored."""

from __future__ import annotations

import os
import signal
from pathlib import PurePosixPath

import pytest

from tests.support.stack import (
    function_pid,
    log_file,
    restart_stack,
    stack_settings,
    wait_until,
)
from tests.support.tasks import segment_message, segments_of
from vss.bootstrap import ports_alone
from vss.domain.artifacts import DubbingScript
from vss.domain.audio import wav_facts
from vss.edge.client import EdgeClient

pytestmark = pytest.mark.integration


def test_dubbing_fans_out_and_every_wav_is_downloadable(edge: EdgeClient, narration_path: str):
    task = edge.create_task("GENERATE_DUBBING", {"input_narration_path": narration_path})
    seen: list[tuple[int, int]] = []

    def finished() -> dict | None:
        view = edge.get_task(task["id"])
        if view.get("progress"):
            seen.append((view["progress"]["done"], view["progress"]["total"]))
        return view if view["status"] not in ("PENDING", "RUNNING") else None

    done = wait_until(finished, timeout=240, interval=0.2)
    assert done["status"] == "COMPLETED", done["error"]
    script = DubbingScript.model_validate_json(edge.download_result(task["id"]))
    assert seen and seen[-1][1] == len(script.dubbing_script)
    names = [PurePosixPath(s.audio_file_path).name for s in script.dubbing_script]
    assert len(names) == len(set(names))
    formats = set()
    for segment in script.dubbing_script:
        wav = edge.download_path(segment.audio_file_path)
        facts = wav_facts(wav)
        assert facts.duration_seconds == pytest.approx(segment.duration_seconds, abs=0.002)
        formats.add((facts.sample_rate, facts.channels, facts.sample_width_bytes))
    assert len(formats) == 1  # the edge joins them with `ffmpeg -f concat -c copy`
    assert script.usage is not None
    assert done["usage"]["tts_characters"] == sum(script.usage.tts_characters.values()) > 0


def test_duplicate_segment_messages_change_nothing(edge: EdgeClient, narration_path: str):
    task = edge.create_task("GENERATE_DUBBING", {"input_narration_path": narration_path})
    done = edge.wait(task["id"], timeout=240)
    assert done["status"] == "COMPLETED", done["error"]
    deps = ports_alone(stack_settings())
    before = segments_of(deps, task["id"])
    for segment in before[:3]:
        message = segment_message(deps, task["id"], segment.index)
        deps.publisher.publish(deps.settings.segments_topic, message.model_dump_json().encode())
    wait_until(lambda: _worker_lines(task["id"], "segment message dropped") >= 3, timeout=60)
    after = segments_of(deps, task["id"])
    assert [s.attempts for s in after] == [s.attempts for s in before]
    final = deps.tasks.get(task["id"])
    assert final is not None and final.progress is not None
    assert final.progress.done == final.progress.total == len(before)


# Killed inside a Firestore transaction (a heartbeat or a finish), the worker leaves its locks
# in the emulator for about 5 minutes (emulators/README.md): the task, and the test, wait that
# out, so no later test inherits a locked document.
@pytest.mark.timeout(900)
def test_a_tts_worker_killed_mid_segment_still_completes_the_task(
    edge: EdgeClient, narration_path: str,
):
    deps = ports_alone(stack_settings())
    task = edge.create_task("GENERATE_DUBBING", {"input_narration_path": narration_path})
    wait_until(lambda: any(s.state == "running"
                           for s in segments_of(deps, task["id"])),
               timeout=120, interval=0.05)
    os.killpg(function_pid("tts_worker"), signal.SIGKILL)
    restart_stack()
    done = edge.wait(task["id"], timeout=480)
    assert done["status"] == "COMPLETED", done["error"]
    attempts = [s.attempts for s in segments_of(deps, task["id"])]
    assert max(attempts) >= 2  # the killed segment was retaken


def _worker_lines(task_id: str, message: str) -> int:
    text = log_file("tts_worker").read_text(errors="replace")
    return sum(1 for line in text.splitlines() if message in line and task_id in line)
