"""An in-process stand-in for the edge API and its signed storage URLs, mounted on a
`requests` session as a transport adapter (no socket): the CLI's real client, downloader and
state handling run against it in unit tests.

It speaks the chained task's contract: a GENERATE_COMMENTARY task moves one step per poll
(narration, the dubbing segments one by one, assembly, editing), writes each stage's artifacts
with their `x-goog-hash`, can fail at a stage once and be resumed there, answers a repeated
`Idempotency-Key` with its first task (200) or a 422, can fail a creation after storing its
task, and counts every call so a test can tell what a second run did again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import google_crc32c
import requests
from requests.adapters import BaseAdapter

from vss.edge.client import EdgeClient
from vss.edge.progress import QuietDisplay
from vss.edge.run import CommentaryRun, RunOptions, RunOutcome
from vss.errors import (
    IdempotencyKeyReused,
    InvalidTransition,
    NotFound,
    PayloadInvalid,
    RetryableError,
    RunningTasksQuotaExceeded,
    TtsError,
    Unauthenticated,
    UnknownTaskType,
)

API = "http://api.test"
STORAGE = "http://storage.test"
PIPELINE = ("narration", "dubbing", "dubbing_assembly", "editing")
STOP_AT = {"narration": 1, "dubbing": 3, "editing": 4}


def goog_hash(data: bytes) -> str:
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    crc = base64.b64encode(google_crc32c.Checksum(data).digest()).decode()
    return f"crc32c={crc},md5={md5}"


@dataclass
class FakeTask:
    id: str
    payload: dict[str, Any]
    stages: list[str]
    status: str = "PENDING"
    index: int = 0
    done: int | None = None  # dubbing segments synthesised, while fanned out
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: dict[str, Any] | None = None


class FakeEdgeApi(BaseAdapter):
    def __init__(self, *, segments: int = 3, fail_at: str | None = None,
                 hashes: bool = True, digests: bool = True) -> None:
        super().__init__()
        self.segments = segments
        self.fail_at = fail_at  # the stage fails the first time it runs
        self.hashes = hashes  # send x-goog-hash (else only Content-Length)
        self.digests = digests  # results record each artifact's sha256 (as the cloud's do)
        self.corrupt: set[str] = set()  # relative paths served with a flipped byte
        self.corrupt_next: str | None = None  # an artifact name to corrupt when it is made
        # An artifact name whose result records another sha256 than storage holds (as when a
        # stale attempt overwrote a published file, before attempts were fenced).
        self.misrecord_next: str | None = None
        self._made: list[dict[str, Any]] = []  # digests of the current stage's artifacts
        self.files: dict[str, bytes] = {}
        self.tasks: dict[str, FakeTask] = {}
        self.calls: Counter[str] = Counter()  # "POST tasks", "GET tasks/<id>", "PUT storage",
        # "GET storage <relative path>", ...
        self.invalid_dataset = False
        # Idempotency-Key of each POST tasks/ (None: no header), and what each key created:
        # key -> (the body it came with, the task id).
        self.idempotency_keys: list[str | None] = []
        self.created_by_key: dict[str, tuple[Any, str]] = {}
        # What the next creations do after storing their task, one entry each: answer this
        # status (a publish that failed), or raise this exception (an answer that never came).
        self.after_create: list[int | BaseException] = []
        # Quota refusals: route ("POST tasks", "POST files/upload") -> the Retry-After of each
        # next request's 429, answered before anything is created.
        self.over_quota: dict[str, list[int]] = {}

    # ---------------------------------------------------------------- plumbing

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount(API, self)
        session.mount(STORAGE, self)
        return session

    def close(self) -> None:
        pass

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlparse(request.url)
        if f"{url.scheme}://{url.netloc}" == STORAGE:
            return self._storage(request, url.path.lstrip("/"))
        if request.headers.get("X-Api-Key") != "key":
            return self._json(request, 401, Unauthenticated("Unauthenticated.").to_dict())
        path = url.path.removeprefix("/api/v1")
        body = json.loads(request.body) if request.body else None
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        named = ["<id>" if p in self.tasks else p for p in path.split("/") if p]
        self.calls[f"{request.method} {'/'.join(named)}"] += 1
        return self._route(request, request.method or "GET", path, body, query)

    def _response(self, request: requests.PreparedRequest, status: int, content: bytes,
                  headers: dict[str, str]) -> requests.Response:
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers)
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if status < 400 else "Error"
        return response

    def _json(self, request: requests.PreparedRequest, status: int, body: Any
              ) -> requests.Response:
        return self._response(request, status, json.dumps(body).encode(),
                              {"Content-Type": "application/json"})

    # ---------------------------------------------------------------- storage

    def _storage(self, request: requests.PreparedRequest, path: str) -> requests.Response:
        kind, _, relative = path.partition("/")
        if kind == "put" and request.method == "PUT":
            self.calls["PUT storage"] += 1
            # Cloud Storage's create-only condition, which the signed URL carries.
            if request.headers.get("x-goog-if-generation-match") == "0" and relative in self.files:
                return self._response(request, 412, b"PreconditionFailed", {})
            self.files[relative] = request.body if isinstance(request.body, bytes) else b""
            return self._response(request, 200, b"{}", {})
        data = self.files.get(relative)
        if data is None:
            return self._response(request, 404, b"no such object", {})
        self.calls[f"GET storage {relative}"] += 1
        headers = {"Content-Length": str(len(data))}
        if self.hashes:
            headers["x-goog-hash"] = goog_hash(data)
        if relative in self.corrupt:
            data = bytes([data[0] ^ 1]) + data[1:]
        return self._response(request, 200, data, headers)

    # ---------------------------------------------------------------- API

    def _route(self, request: requests.PreparedRequest, method: str, path: str, body: Any,
               query: dict[str, str]) -> requests.Response:
        parts = [p for p in path.split("/") if p]
        if refusals := self.over_quota.get(f"{method} {'/'.join(parts)}"):
            seconds = refusals.pop(0)
            error = RunningTasksQuotaExceeded(
                "The tenant's running_tasks quota (1) would be exceeded.",
                details={"quota": "running_tasks", "limit": 1, "used": 1, "requested": 1,
                         "retry_after_seconds": seconds}, retry_after_seconds=seconds)
            return self._response(request, 429, json.dumps(error.to_dict()).encode(),
                                  {"Content-Type": "application/json", **error.headers()})
        if method == "POST" and parts == ["files", "upload"]:
            relative = f"uploads/{uuid.uuid4().hex}/{body['filename']}"
            return self._json(request, 201, {
                "relative_path": relative, "upload_url": f"{STORAGE}/put/{relative}",
                "method": "PUT", "expires_at": "2030-01-01T00:00:00+00:00",
                "headers": {"Content-Type": body["content_type"],
                            "x-goog-content-length-range": f"{body['size']},{body['size']}",
                            "x-goog-if-generation-match": "0"}})
        if method == "GET" and parts == ["files", "download"]:
            if query.get("path") not in self.files:
                return self._json(request, 404, NotFound(
                    "No such file.", details={"path": query.get("path")}).to_dict())
            return self._response(request, 302, b"",
                                  {"Location": f"{STORAGE}/get/{query['path']}"})
        if method == "POST" and parts == ["tasks"]:
            key = request.headers.get("Idempotency-Key")
            self.idempotency_keys.append(key)
            if key is not None and key in self.created_by_key:
                first_body, task_id = self.created_by_key[key]
                if first_body != body:
                    return self._json(request, 422, IdempotencyKeyReused(
                        "Idempotency-Key used with another body.",
                        details={"idempotency_key": key}).to_dict())
                return self._json(request, 200, self.view(self.tasks[task_id]))
            response = self._create(request, body)
            if response.status_code == 202 and key is not None:
                self.created_by_key[key] = (body, response.json()["id"])
            if response.status_code == 202 and self.after_create:
                failure = self.after_create.pop(0)
                if isinstance(failure, BaseException):
                    raise failure
                return self._json(request, failure, RetryableError("Publishing failed.").to_dict())
            return response
        if len(parts) >= 2 and parts[0] == "tasks":
            task = self.tasks.get(parts[1])
            if task is None:
                return self._json(request, 404, NotFound("No such task.").to_dict())
            if method == "GET":
                self._advance(task)
            elif parts[2:] == ["resume"]:
                if task.status != "FAILED":
                    return self._json(request, 409, InvalidTransition("Not FAILED.").to_dict())
                task.status, task.error = "RUNNING", None
            elif parts[2:] == ["cancel"]:
                task.status = "CANCELED"
            return self._json(request, 200, self.view(task))
        return self._json(request, 404, NotFound(f"no route {path}").to_dict())

    def _create(self, request: requests.PreparedRequest, body: dict[str, Any]
                ) -> requests.Response:
        payload = body["payload"]
        if body["task_type"] != "GENERATE_COMMENTARY":
            return self._json(request, 400, UnknownTaskType("Unknown task type.").to_dict())
        if "blueprint_path" not in payload:
            return self._json(request, 400, PayloadInvalid("Payload is invalid.", details={
                "errors": [{"pointer": "/payload/blueprint_path",
                            "reason": "Field required"}]}).to_dict())
        stages = list(PIPELINE[:STOP_AT[payload.get("stop_at", "editing")]])
        task = FakeTask(id=uuid.uuid4().hex, payload=payload, stages=stages)
        self.tasks[task.id] = task
        return self._json(request, 202, self.view(task))

    def view(self, task: FakeTask) -> dict[str, Any]:
        running = task.status in ("PENDING", "RUNNING")
        stage = task.stages[task.index] if running else None
        last = task.stages[len(task.results) - 1] if task.results else None
        return {
            "id": task.id, "task_type": "GENERATE_COMMENTARY", "status": task.status,
            "stage": stage, "stages": task.stages,
            "progress": {"stage": "dubbing_assembly", "done": task.done,
                         "total": self.segments} if running and task.done is not None else None,
            "result": task.results.get(last) if last else None, "results": task.results,
            "error": task.error, "usage": {"tts_characters": 42.0},
        }

    def _artifact(self, task: FakeTask, name: str, data: bytes) -> str:
        path = f"tasks/{task.id}/{name}"
        self.files[path] = data
        if name == self.corrupt_next:
            self.corrupt.add(path)
        recorded = data + b"!" if name == self.misrecord_next else data
        self._made.append({"path": path, "sha256": hashlib.sha256(recorded).hexdigest(),
                           "size": len(recorded)})
        return path

    def _advance(self, task: FakeTask) -> None:
        """One step of work per poll."""
        if task.status == "PENDING":
            task.status = "RUNNING"
            return
        if task.status != "RUNNING":
            return
        stage = task.stages[task.index]
        if stage == self.fail_at:
            self.fail_at = None
            task.status = "FAILED"
            task.error = TtsError("Speech synthesis failed.", details={"errors": [
                {"pointer": "/dubbing_script/1", "reason": "the engine gave no audio"}]}).to_dict()
            return
        if stage == "narration" and self.invalid_dataset:
            task.status = "FAILED"
            task.error = PayloadInvalid("The dataset is invalid.", details={"errors": [
                {"pointer": "/scenes/1/start_time", "reason": "not a timecode"}]}).to_dict()
            return
        if stage == "dubbing":
            task.done = 0 if task.done is None else task.done + 1
            if task.done < self.segments:
                return
        self._made = []
        task.results[stage] = getattr(self, f"_{stage}")(task)
        if self.digests:
            task.results[stage]["artifacts"] = self._made
        task.done = None
        task.index += 1
        if task.index == len(task.stages):
            task.status = "COMPLETED"

    def _narration(self, task: FakeTask) -> dict[str, Any]:
        script = {"narration_script": [{"narration": f"第{i}段", "source_scene_ids": [i + 1]}
                                       for i in range(self.segments)]}
        return {"output_file_path": self._artifact(task, "narration.json",
                                                   json.dumps(script).encode()), "snippets": 3}

    def _dubbing(self, task: FakeTask) -> dict[str, Any]:
        return {"output_file_path": self._artifact(task, "dubbing_plan.json", b'{"plan": []}'),
                "segments": self.segments}

    def _dubbing_assembly(self, task: FakeTask) -> dict[str, Any]:
        segments = []
        for i in range(self.segments):
            wav = self._artifact(task, f"seg_{i:03d}.wav", b"RIFF" + bytes([i]) * 3000)
            segments.append({"narration": f"第{i}段", "source_scene_ids": [i + 1],
                             "duration_seconds": 1.0, "audio_file_path": wav})
        script = {"dubbing_script": segments, "total_duration": float(self.segments)}
        return {"output_file_path": self._artifact(task, "dubbing_script.json",
                                                   json.dumps(script).encode()),
                "narration_track_path": self._artifact(task, "narration_track.wav", b"RIFF" * 9),
                "subtitles_srt_path": self._artifact(task, "narration.srt", b"1\n"),
                "subtitles_vtt_path": self._artifact(task, "narration.vtt", b"WEBVTT\n"),
                "segments": self.segments, "total_duration": float(self.segments)}

    def _editing(self, task: FakeTask) -> dict[str, Any]:
        return {"output_file_path": self._artifact(task, "editing_script.json", b'{"e": 1}'),
                "report_file_path": self._artifact(task, "editing_report.json", b'{"ok": 1}'),
                "exports": {"otio": self._artifact(task, "timeline.otio", b"{}"),
                            "edl": self._artifact(task, "timeline.edl", b"TITLE: x\n")},
                "segments": self.segments}

    def storage_gets(self) -> int:
        return sum(n for call, n in self.calls.items() if call.startswith("GET storage"))


def fake_client(api: FakeEdgeApi) -> EdgeClient:
    """An edge client whose API and storage calls go to `api`."""
    return EdgeClient(API, "i_1", "key", session=api.session(), storage=api.session())


def run_against(api: FakeEdgeApi, dataset: Path, out: Path, **options: Any) -> RunOutcome:
    """`vss run DATASET --out OUT` against `api`, without a display or waits."""
    opts = RunOptions(dataset=dataset, out=out, payload=options.pop("payload", {}), **options)
    return CommentaryRun(fake_client(api), opts, QuietDisplay(), api_url=API,
                         instance_id="i_1", sleep=lambda _: None).run()
