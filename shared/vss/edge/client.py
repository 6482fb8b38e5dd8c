"""HTTP client of the edge API: upload, create, poll, download. Used by the CLI and the demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests

TERMINAL = {"COMPLETED", "FAILED", "CANCELED"}


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status}: {body.get('code')} {body.get('message')}")
        self.status = status
        self.body = body


class EdgeClient:
    def __init__(self, base_url: str, instance_id: str, api_key: str, timeout: float = 30) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.session = requests.Session()
        self.session.headers.update({"X-Instance-ID": instance_id, "X-Api-Key": api_key})
        self.timeout = timeout

    def _check(self, response: requests.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"message": response.text[:200]}
            raise ApiError(response.status_code, body)
        answer: dict[str, Any] = response.json()
        return answer

    def upload(self, path: Path) -> dict[str, Any]:
        with path.open("rb") as handle:
            response = self.session.post(f"{self.base}/files/upload/",
                                         files={"file": (path.name, handle)},
                                         timeout=self.timeout)
        return self._check(response)

    def create_task(self, task_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = self.session.post(f"{self.base}/tasks/",
                                     json={"task_type": task_type, "payload": payload},
                                     timeout=self.timeout)
        return self._check(response)

    def get_task(self, task_id: str) -> dict[str, Any]:
        return self._check(self.session.get(f"{self.base}/tasks/{task_id}/", timeout=self.timeout))

    def wait(self, task_id: str, timeout: float = 300, interval: float = 0.5) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            task = self.get_task(task_id)
            if task["status"] in TERMINAL:
                return task
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {task['status']} after {timeout}s")
            time.sleep(interval)

    def _follow(self, url: str, params: dict[str, str] | None = None) -> bytes:
        response = self.session.get(url, params=params, allow_redirects=False,
                                    timeout=self.timeout)
        if response.status_code != 302:
            self._check(response)
            raise ApiError(response.status_code, {"message": "expected a redirect"})
        # The signed URL carries its own authorisation: don't send our key to storage.
        blob = requests.get(response.headers["Location"], timeout=self.timeout)
        blob.raise_for_status()
        return blob.content

    def download_result(self, task_id: str) -> bytes:
        return self._follow(f"{self.base}/files/tasks/{task_id}/download/")

    def download_path(self, relative_path: str) -> bytes:
        return self._follow(f"{self.base}/files/download/", {"path": relative_path})
