"""Driving the API on fake ports the way the edge does: upload, create a task, let the stage
worker take the published stage messages, poll, read the result. The edge's own request
bodies are in tests/data/edge/."""

from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.paths import DATA
from tests.support.tasks import deliver_published
from vss.api.app import create_app
from vss.deps import Deps
from vss.domain.paths import owner_id
from vss.service import auth, uploads
from vss.service.storage import TaskFiles

EDGE_REQUESTS = DATA / "edge"


def edge_request(name: str, **payload: Any) -> dict[str, Any]:
    """The edge's request `name` (tests/data/edge/<name>.json), with `payload` fields replaced
    (the paths of this test's uploads)."""
    body = json.loads((EDGE_REQUESTS / f"{name}.json").read_text("utf-8"))
    body["payload"].update(payload)
    return body


def control_params_variants() -> list[dict[str, Any]]:
    """The control_params the edge's narration UI produces for its other choices."""
    variants: list[dict[str, Any]] = json.loads(
        (EDGE_REQUESTS / "control_params_variants.json").read_text("utf-8"))
    return variants


def with_service_params(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of `body` with `service_params` fields changed."""
    changed = copy.deepcopy(body)
    changed["payload"]["service_params"].update(changes)
    return changed


@dataclass
class FakeEdge:
    deps: Deps
    client: FlaskClient
    headers: dict[str, str]
    tenant: str
    delivered: int = 0  # messages of the fake publisher delivered so far

    @classmethod
    def of(cls, deps: Deps) -> FakeEdge:
        creds = auth.create_tenant(deps, "edge")
        return cls(deps, create_app(deps).test_client(), {
            "X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key}, creds.tenant_id)

    def upload(self, filename: str, data: bytes) -> str:
        """Upload through the API, then run the upload check its storage event would run."""
        response = self.client.post("/api/v1/files/upload/", headers=self.headers,
                                    data={"file": (io.BytesIO(data), filename)})
        assert response.status_code == 201, response.get_json()
        path: str = response.get_json()["relative_path"]
        record = self.deps.files.get(owner_id(path))  # the generation the event would name
        assert record is not None and record.generation is not None
        uploads.check_landed_object(self.deps, self.deps.settings.uploads_bucket,
                                    f"tenants/{self.tenant}/{path}", record.generation)
        return path

    def create(self, body: dict[str, Any]) -> TestResponse:
        return self.client.post("/api/v1/tasks/", headers=self.headers, json=body)

    def run_stages(self) -> None:
        """Deliver every message published since the last call, and those they publish in
        turn: stage messages to the stage worker, segment messages to the TTS worker."""
        self.delivered = deliver_published(self.deps, self.delivered)

    def task(self, task_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/tasks/{task_id}/", headers=self.headers)
        assert response.status_code == 200
        task: dict[str, Any] = response.get_json()
        return task

    def read(self, task_id: str, path: str) -> bytes:
        return TaskFiles(self.deps, self.tenant, task_id).read(path)

    def run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create the task, run its stages, and return the task as the edge polls it."""
        created = self.create(body)
        assert created.status_code == 202, created.get_json()
        self.run_stages()
        return self.task(created.get_json()["id"])
