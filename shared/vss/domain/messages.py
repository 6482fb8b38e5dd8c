"""Messages between functions (Pub/Sub data and Cloud Tasks bodies)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from vss.domain.tasks import Stage


class StageMessage(BaseModel):
    """Run `stage` of task `task_id` (published on the stages topic)."""

    model_config = ConfigDict(extra="forbid")
    task_id: str
    stage: Stage


class SegmentMessage(BaseModel):
    """Synthesise segment `index` of plan `plan` of task `task_id` (on the segments topic)."""

    model_config = ConfigDict(extra="forbid")
    task_id: str
    plan: str
    index: int


class DeadlineCheck(BaseModel):
    """Fail task `task_id` if it has not finished by now (a Cloud Tasks HTTP body)."""

    model_config = ConfigDict(extra="forbid")
    task_id: str


class StorageNotification(BaseModel):
    """A Cloud Storage notification, as its attributes name the object (`bucketId`,
    `objectId`, `eventType`): the uploads' dead letters reach the dead_letter function too."""

    model_config = ConfigDict(frozen=True)
    bucket: str
    name: str
    event_type: str | None = None
