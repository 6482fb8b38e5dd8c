"""HTTP client of the edge API: upload (multipart or a signed PUT), create, poll, resume,
cancel and download. Used by the `vss` CLI, the tests and the benchmarks.

Calls to the API carry the instance's key; calls to a signed storage URL never do (the URL
carries its own authorisation), so they go through a second session without our headers.

Polls are conditional: the client keeps each task's last ETag and body and sends the tag as
`If-None-Match`, so a task that has not changed answers 304 with no body.
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests

from vss.edge.backoff import MAX_RETRY_AFTER, Backoff, retry_after, retry_after_seconds
from vss.edge.errors import EdgeError, server_error_line

T = TypeVar("T")
# Tries of an upload refused with 429 (a quota): nothing was stored, so it is safe to repeat.
UPLOAD_ATTEMPTS = 3

TERMINAL = {"COMPLETED", "FAILED", "CANCELED"}

# What the API signs uploads for (vss.service.uploads.SIGNABLE_TYPES), by file suffix:
# mimetypes does not know the subtitle formats on every system.
CONTENT_TYPES = {".json": "application/json", ".wav": "audio/wav", ".srt": "application/x-subrip",
                 ".ass": "text/x-ssa", ".ssa": "text/x-ssa", ".vtt": "text/vtt",
                 ".txt": "text/plain"}


class ApiError(EdgeError):
    """An answer of 4xx/5xx, with the server's `{code, message, details}`."""

    def __init__(self, status: int, body: dict[str, Any], retry_after: str | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        self.body = body
        self.code: int | None = body.get("code") if isinstance(body.get("code"), int) else None
        self.message = str(body.get("message") or f"HTTP {status}")
        self.details: Any = body.get("details")
        super().__init__(f"HTTP {status}: {self.code} {self.message}")

    def describe(self) -> tuple[str, dict[str, Any]]:
        return f"{server_error_line(self.body)} (HTTP {self.status})", {"error": self.body}


def is_transient(exc: BaseException) -> bool:
    """No answer, or one that says to come back (429, 5xx): worth trying again."""
    if isinstance(exc, ApiError):
        return exc.status == 429 or exc.status >= 500
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


def is_too_many_requests(exc: BaseException) -> bool:
    """A 429: the API refused before doing anything (a quota), so any request may be repeated."""
    return isinstance(exc, ApiError) and exc.status == 429


def retry_call(call: Callable[[], T], *, attempts: int, backoff: Backoff,
               sleep: Callable[[float], None],
               retry_if: Callable[[BaseException], bool] = is_transient) -> T:
    """`call()`, tried again after the failures `retry_if` accepts, up to `attempts` tries.
    Between tries it waits the backoff's next delay, or the answer's `Retry-After`; an answer
    asking for more than `MAX_RETRY_AFTER` seconds (a daily quota) is raised at once."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt == attempts or not retry_if(exc):
                raise
            delay = backoff.next()
            if isinstance(exc, ApiError):
                asked = retry_after_seconds(exc.retry_after)
                if asked is not None and asked > MAX_RETRY_AFTER:
                    raise
                delay = retry_after(exc.retry_after, delay)
            sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def content_type_of(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] \
        or "application/octet-stream"


@dataclass
class PollCounts:
    """What the client's task polls got: a body (200) or the one it had (304)."""

    fetched: int = 0
    not_modified: int = 0

    @property
    def not_modified_share(self) -> float:
        total = self.fetched + self.not_modified
        return self.not_modified / total if total else 0.0


class EdgeClient:
    def __init__(self, base_url: str, instance_id: str, api_key: str, timeout: float = 30,
                 session: requests.Session | None = None,
                 storage: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.session = session or requests.Session()
        self.session.headers.update({"X-Instance-ID": instance_id, "X-Api-Key": api_key})
        self.storage = storage or requests.Session()
        self.timeout = timeout
        self.sleep = sleep  # between the tries of an upload refused with 429
        self.polls = PollCounts()
        # task id -> (ETag, body) of its last 200; an API without ETags leaves it empty.
        self._tasks: dict[str, tuple[str, bytes]] = {}

    def _check(self, response: requests.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            if not isinstance(body, dict) or "message" not in body:
                body = {"message": f"HTTP {response.status_code} {response.reason or ''} "
                                   f"{response.text[:200]}".strip()}
            raise ApiError(response.status_code, body, response.headers.get("Retry-After"))
        answer: dict[str, Any] = response.json()
        return answer

    # ------------------------------------------------------------------ uploads

    def _retried_on_429(self, call: Callable[[], T]) -> T:
        """An upload call, tried again while the API answers 429 (only then: after a 5xx or
        no answer, the file may have been recorded and charged to the day already)."""
        return retry_call(call, attempts=UPLOAD_ATTEMPTS, backoff=Backoff(initial=1.0,
                          maximum=8.0), sleep=self.sleep, retry_if=is_too_many_requests)

    def upload(self, path: Path) -> dict[str, Any]:
        """Multipart upload: `{relative_path, size, sha256, content_type, status}`."""
        def send() -> dict[str, Any]:
            with path.open("rb") as handle:
                return self._check(self.session.post(f"{self.base}/files/upload/",
                                                     files={"file": (path.name, handle)},
                                                     timeout=self.timeout))

        return self._retried_on_429(send)

    def sign_upload(self, filename: str, content_type: str, size: int) -> dict[str, Any]:
        """A signed PUT: `{relative_path, upload_url, method, headers, expires_at}`."""
        return self._retried_on_429(lambda: self._check(self.session.post(
            f"{self.base}/files/upload/",
            json={"filename": filename, "content_type": content_type, "size": size},
            timeout=self.timeout)))

    def upload_signed(self, path: Path, content_type: str | None = None) -> dict[str, Any]:
        """Upload through a signed URL, as the workbench does for large files: ask for the URL,
        then PUT the bytes with exactly the headers the URL was signed with."""
        data = path.read_bytes()
        signed = self.sign_upload(path.name, content_type or content_type_of(path), len(data))
        put = self.storage.request(signed.get("method", "PUT"), signed["upload_url"], data=data,
                                   headers=signed["headers"], timeout=max(self.timeout, 120))
        if put.status_code >= 400:
            raise ApiError(put.status_code, {"message": f"storage refused the upload: HTTP "
                                             f"{put.status_code} {put.text[:200]}".strip()})
        return signed

    # ------------------------------------------------------------------ tasks

    def create_task(self, task_type: str, payload: dict[str, Any],
                    idempotency_key: str | None = None) -> dict[str, Any]:
        """The new task's view (202), or with a key the API has seen with this body, the task
        that request created (200; vss.edge.creation retries with one key)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
        response = self.session.post(f"{self.base}/tasks/",
                                     json={"task_type": task_type, "payload": payload},
                                     headers=headers, timeout=self.timeout)
        return self._check(response)

    def get_task(self, task_id: str) -> dict[str, Any]:
        """The task's view; sent with the ETag of the last one, a 304 (the task has not changed)
        answers with that view again, parsed afresh so a caller's changes never leak into it."""
        known = self._tasks.get(task_id)
        headers = {"If-None-Match": known[0]} if known else {}
        response = self.session.get(f"{self.base}/tasks/{task_id}/", headers=headers,
                                    timeout=self.timeout)
        if response.status_code == 304 and known:
            self.polls.not_modified += 1
            cached: dict[str, Any] = json.loads(known[1])
            return cached
        view = self._check(response)
        self.polls.fetched += 1
        etag = response.headers.get("ETag")
        if etag:
            self._tasks[task_id] = (etag, response.content)
        else:  # an API without ETags (or a proxy that dropped it): poll unconditionally
            self._tasks.pop(task_id, None)
        return view

    def cancel_task(self, task_id: str) -> dict[str, Any]:
        return self._check(self.session.post(f"{self.base}/tasks/{task_id}/cancel/",
                                             timeout=self.timeout))

    def resume_task(self, task_id: str) -> dict[str, Any]:
        """Restart a FAILED task at its failed stage (409 if it is not FAILED)."""
        return self._check(self.session.post(f"{self.base}/tasks/{task_id}/resume/",
                                             timeout=self.timeout))

    def wait(self, task_id: str, timeout: float = 300, interval: float = 0.5) -> dict[str, Any]:
        """Poll (conditionally, see `get_task`) until the task ends; its last view."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.get_task(task_id)
            if task["status"] in TERMINAL:
                return task
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still {task['status']} after {timeout}s")
            time.sleep(interval)

    # ------------------------------------------------------------------ downloads

    def signed_url(self, relative_path: str) -> str:
        """The signed URL of one of our files (the API answers 302 to it)."""
        return self._location(f"{self.base}/files/download/", {"path": relative_path})

    def _location(self, url: str, params: dict[str, str] | None = None) -> str:
        response = self.session.get(url, params=params, allow_redirects=False,
                                    timeout=self.timeout)
        if response.status_code != 302:
            self._check(response)
            raise ApiError(response.status_code, {"message": "expected a redirect"})
        return response.headers["Location"]

    def _follow(self, url: str, params: dict[str, str] | None = None) -> bytes:
        blob = self.storage.get(self._location(url, params), timeout=self.timeout)
        blob.raise_for_status()
        return blob.content

    def download_result(self, task_id: str) -> bytes:
        return self._follow(f"{self.base}/files/tasks/{task_id}/download/")

    def download_path(self, relative_path: str) -> bytes:
        return self._follow(f"{self.base}/files/download/", {"path": relative_path})
