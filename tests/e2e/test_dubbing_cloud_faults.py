"""The edge's Gemini-TTS dubbing request through the whole stack, with the real Cloud TTS
client inside the TTS worker talking to a loopback fake: bursts of 429/500 are absorbed, a
permanent 400 fails the task naming its segment, and resuming it once the fault is gone
synthesises only the segments that were not done."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.support.fake_tts import FakeTts
from tests.support.stack import stack_settings, wait_until
from tests.support.tasks import segments_of
from tests.support.tts_stack import tts_worker_speaking_through
from vss.bootstrap import ports_alone
from vss.domain.artifacts import DubbingScript
from vss.domain.leases import LeaseState
from vss.edge.client import EdgeClient
from vss.errors import TtsError

pytestmark = pytest.mark.integration

GEMINI_TEMPLATE = {"template_name": "chinese_gemini_emotional", "voice_name": "Puck",
                   "language_code": "cmn-CN", "speaking_rate": 1.0,
                   "model_name": "gemini-2.5-pro-tts"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTts]:
    with FakeTts() as server, tts_worker_speaking_through(server):
        yield server


def test_bursts_of_429_and_500_still_dub_every_segment(edge: EdgeClient, fake: FakeTts,
                                                       narration_path: str):
    fake.burst(429, 500, 429, 503, 500, 429)
    task = edge.create_task("GENERATE_DUBBING", {"input_narration_path": narration_path,
                                                 "service_params": GEMINI_TEMPLATE})
    done = edge.wait(task["id"], timeout=240)
    assert done["status"] == "COMPLETED", done["error"]
    script = DubbingScript.model_validate_json(edge.download_result(task["id"]))
    assert all(s.engine and "google" in s.engine and not s.fallback_reason
               for s in script.dubbing_script)
    spoken = fake.succeeded
    assert spoken and all(call.body["voice"]["modelName"] == "gemini-2.5-pro-tts"
                          for call in spoken)


def test_a_permanent_400_fails_the_task_naming_the_segment_and_a_resume_finishes_it(
    edge: EdgeClient, fake: FakeTts, narration_path: str,
):
    script = edge.download_path(narration_path).decode()
    marker = "车小小"
    assert marker in script
    earlier_tests = len(fake.succeeded)
    fake.refuse(marker)
    try:
        task = edge.create_task("GENERATE_DUBBING", {"input_narration_path": narration_path,
                                                     "service_params": GEMINI_TEMPLATE})
        done = edge.wait(task["id"], timeout=240)
    finally:
        fake.allow(marker)
    assert done["status"] == "FAILED"
    assert done["error"]["code"] == TtsError.code and "segment" in done["error"]["details"]
    assert f"Segment {done['error']['details']['segment']}" in done["error"]["message"]

    # Segments running when the task failed still finish (their outcome counts): wait for
    # them, then note which segments are done before the resume.
    deps = ports_alone(stack_settings())
    wait_until(lambda: not any(s.state == LeaseState.RUNNING
                               for s in segments_of(deps, task["id"])), timeout=120)
    done_before = [str(s.request["text"]) for s in segments_of(deps, task["id"])
                   if s.state == LeaseState.DONE]
    # The fault is gone: the edge resumes, and the API publishes the unfinished segments again.
    resumed_at = time.time()
    resumed = edge.resume_task(task["id"])
    assert resumed["status"] == "RUNNING"
    finished = edge.wait(task["id"], timeout=240)
    assert finished["status"] == "COMPLETED", finished["error"]
    dubbed = DubbingScript.model_validate_json(edge.download_result(task["id"]))
    # Only this task's requests since the resume (a stale attempt of an earlier test may still
    # be speaking the same narration): the failed segment again, no segment that was done.
    again = [c for c in fake.succeeded[earlier_tests:] if c.started >= resumed_at]
    assert any(marker in call.text for call in again)
    assert not [text for text in done_before if any(text in call.text for call in again)]
    assert len(dubbed.dubbing_script) > 0
