"""The overlapping-attempt scenarios of `tests/support/fencing.py` again, with the task,
segment and file records in the Firestore emulator and the files in fake-gcs-server: the
fencing rests on their transactions and on the objects' names, not on the fakes.

Messages and deadline checks stay in fakes (and the clock is controlled), so nothing of the
running stack delivers them: each scenario stays deterministic.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.fake_audio import RecordingSpeechEngine
from tests.support.fakes import fake_deps
from tests.support.fencing import *  # noqa: F403  (every scenario, collected here too)
from tests.support.stack import stack_settings, unwatched_bucket
from tests.support.tasks import narration_task, valid_dataset
from vss.bootstrap.stage_worker import for_stage_worker
from vss.deps import Deps
from vss.domain.messages import StageMessage
from vss.domain.tasks import Stage, Task
from vss.service import stages, tasks

pytestmark = pytest.mark.integration


@pytest.fixture
def deps(speech: RecordingSpeechEngine) -> Deps:
    # The scenarios pause workers with the clock: the default leases, so a real heartbeat
    # (every third of a lease) never runs during one. Uploads land in a bucket of their own:
    # in the stack's uploads bucket, its on_upload would check them and its stage worker
    # take the task before the scenario delivers its message.
    defaults = fake_deps(speech)
    settings = stack_settings().model_copy(update={
        "stage_lease_seconds": defaults.settings.stage_lease_seconds,
        "segment_lease_seconds": defaults.settings.segment_lease_seconds,
        "uploads_bucket": unwatched_bucket("vss-fencing-uploads")})
    real = for_stage_worker(settings)
    return dataclasses.replace(
        defaults, settings=settings, tasks=real.tasks, files=real.files,
        tenants=real.tenants, blobs=real.blobs, segments=real.segments)


@pytest.fixture
def speech() -> RecordingSpeechEngine:
    return RecordingSpeechEngine()


@pytest.fixture
def planned(deps: Deps, blueprint_bytes: bytes) -> tuple[Deps, Task]:
    """A dubbing task whose plan stage ran: its segments are published, none delivered."""
    narrated = narration_task(deps, valid_dataset(deps, blueprint_bytes))
    stages.run_stage(deps, StageMessage(task_id=narrated.id, stage=Stage.NARRATION))
    done = deps.tasks.get(narrated.id)
    assert done is not None and done.main_result is not None
    task = tasks.create_task(deps, "t1", tasks.CreateTask(
        task_type="GENERATE_DUBBING",
        payload={"input_narration_path": done.main_result.output_file_path}))
    stages.run_stage(deps, StageMessage(task_id=task.id, stage=Stage.DUBBING))
    planned = deps.tasks.get(task.id)
    assert planned is not None
    return deps, planned
