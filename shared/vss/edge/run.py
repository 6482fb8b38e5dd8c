"""`vss run`: a dataset in, every artifact of the chained commentary task out, resumable.

1. Upload the dataset through a signed URL, unless the state file shows these bytes are
   already uploaded (and the API still has them).
2. Create one GENERATE_COMMENTARY task, unless the state file names a task for the same
   dataset and options that can still finish: a running one is followed, a FAILED one is
   resumed at its failed stage (finished stages are not redone), a CANCELED or vanished one
   is replaced. The creation sends an Idempotency-Key, recorded first: its retries, and a
   later run after one stopped mid-creation, get the same task.
3. Follow it with progress; when it ends, download the artifacts of every finished stage, in
   parallel and verified, skipping those already here with the recorded bytes.
The state file (`.vss-run.json`, see vss.edge.state) is written after each step, so a run
killed at any point continues where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vss.edge.client import ApiError, EdgeClient, PollCounts
from vss.edge.creation import create_task, new_key
from vss.edge.downloads import DownloadError, RateLimit, Wanted, fetch_all, local_names
from vss.edge.errors import EdgeError, server_error_line
from vss.edge.follow import StageClock, follow
from vss.edge.progress import Display
from vss.edge.state import (
    DatasetState,
    RunState,
    fingerprint,
    is_present,
    load_state,
    save_state,
)

TASK_TYPE = "GENERATE_COMMENTARY"
STAGE_ORDER = ("narration", "dubbing", "dubbing_assembly", "editing")


class TaskEnded(EdgeError):
    """The task ended FAILED or CANCELED: `view` says why (its finished stages' artifacts are
    downloaded all the same)."""

    def __init__(self, view: dict[str, Any]) -> None:
        super().__init__(f"task {view.get('id')} {view.get('status')}")
        self.view = view

    def describe(self) -> tuple[str, dict[str, Any]]:
        view = self.view
        error = view.get("error") or {}
        if view.get("status") == "CANCELED":
            line = f"task {view.get('id')} was canceled"
        else:
            line = (f"task {view.get('id')} FAILED at {failed_stage(view)}: "
                    f"{server_error_line(error)}")
        return line, {"error": error or None, "task": view}


class DownloadsFailed(EdgeError):
    def __init__(self, errors: list[DownloadError]) -> None:
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"download failed: {first}{more}; run the same command again to "
                         "fetch the missing files")
        self.errors = errors


@dataclass
class RunOptions:
    dataset: Path
    out: Path
    payload: dict[str, Any]  # the task payload without `blueprint_path`
    parallel: int = 4
    limit_rate: float | None = None  # bytes per second over all downloads
    timeout: float = 3600.0
    fresh: bool = False  # ignore the state file: upload again, new task
    resume: bool = True  # resume a FAILED task of an earlier run


@dataclass
class RunOutcome:
    view: dict[str, Any]
    state: RunState
    out: Path
    uploaded: bool = False
    created: bool = False
    resumed: bool = False
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: the task polls of this run: answered with a body, or 304 (nothing changed)
    polls: PollCounts = field(default_factory=PollCounts)

    def summary(self) -> dict[str, Any]:
        return {
            "task_id": self.view.get("id"), "status": self.view.get("status"),
            "out": str(self.out),
            "uploaded": self.uploaded, "created": self.created, "resumed": self.resumed,
            "downloaded": sorted(self.downloaded), "skipped": sorted(self.skipped),
            "files": {rel: f.model_dump() for rel, f in sorted(self.state.files.items())},
            "timings": self.state.timings, "between_polls": self.state.between_polls,
            "polls": asdict(self.polls),
            "usage": self.view.get("usage"),
            "results": self.view.get("results"), "error": self.view.get("error"),
        }


def artifact_paths(results: dict[str, Any]) -> list[str]:
    """Every artifact a task's results name (`tasks/<id>/...` anywhere in them: main outputs,
    tracks, subtitles, reports, exports), stage by stage."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if value.startswith("tasks/") and value.count("/") >= 2:
                found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    ordered = sorted(results, key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else 99)
    for stage in ordered:
        walk(results[stage])
    return list(dict.fromkeys(found))


def recorded_artifacts(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{path, sha256, size}` of every file the stages' results record, by relative path."""
    return {str(a["path"]): a for result in results.values()
            if isinstance(result, dict) for a in result.get("artifacts") or []
            if isinstance(a, dict) and "path" in a and "sha256" in a}


def recorded_digests(results: dict[str, Any]) -> dict[str, str]:
    """The sha256 each stage's result records for the files it published, by relative path."""
    return {path: str(a["sha256"]) for path, a in recorded_artifacts(results).items()}


def segment_audio_paths(dubbing_script: Path) -> list[str]:
    """The WAV of every segment a downloaded dubbing script lists."""
    document = json.loads(dubbing_script.read_text(encoding="utf-8"))
    return [s["audio_file_path"] for s in document.get("dubbing_script", [])
            if isinstance(s, dict) and isinstance(s.get("audio_file_path"), str)]


class CommentaryRun:
    def __init__(self, client: EdgeClient, options: RunOptions, display: Display, *,
                 api_url: str, instance_id: str,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client, self.options, self.display = client, options, display
        self.api_url, self.instance_id = api_url, instance_id
        self.clock, self.sleep = clock, sleep

    # ------------------------------------------------------------------ steps

    def run(self) -> RunOutcome:
        options = self.options
        data = options.dataset.read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
        key = fingerprint(sha256, options.payload, self.api_url, self.instance_id)
        state = None if options.fresh else load_state(options.out)
        if state is None or state.fingerprint != key:
            dataset = DatasetState(file=str(options.dataset.absolute()), sha256=sha256)
            if state is not None and (state.dataset.sha256, state.api_url, state.instance_id) \
                    == (sha256, self.api_url, self.instance_id):
                dataset.relative_path = state.dataset.relative_path  # other options, same bytes
            state = RunState(fingerprint=key, api_url=self.api_url,
                             instance_id=self.instance_id, dataset=dataset)
        outcome = RunOutcome(view={}, state=state, out=options.out, polls=self.client.polls)
        view = self._existing_task(outcome)
        if view is None:
            self._ensure_upload(outcome)
            view = self._create(outcome)
        started = self.clock()
        stage_clock = StageClock(self.clock)
        view = follow(self.client, view, self.display, timeout=options.timeout,
                      stage_clock=stage_clock, clock=self.clock, sleep=self.sleep)
        state.timings.update(stage_clock.seconds)
        state.between_polls = [s for s in dict.fromkeys(
            state.between_polls + stage_clock.between_polls) if s not in state.timings]
        if outcome.created or outcome.resumed or view["status"] != state.status:
            state.timings["wait"] = round(self.clock() - started, 3)
        state.status = view["status"]
        save_state(options.out, state)
        outcome.view = view
        try:
            self._download(outcome)
        except DownloadsFailed:
            if view["status"] == "COMPLETED":
                raise
            # The task's own failure is the news; what could not be fetched is fetched when
            # the run is repeated.
        if view["status"] != "COMPLETED":
            raise TaskEnded(view)
        return outcome

    def _existing_task(self, outcome: RunOutcome) -> dict[str, Any] | None:
        """The earlier run's task if it can still finish (resumed if it FAILED), else None."""
        state = outcome.state
        if not state.task_id:
            return None
        try:
            view = self.client.get_task(state.task_id)
        except ApiError as exc:
            if exc.status != 404:
                raise
            self.display.note(f"task {state.task_id} of the earlier run no longer exists: "
                              "starting a new one")
            self._forget_task(state)
            return None
        if view["status"] == "CANCELED":
            self.display.note(f"task {state.task_id} was canceled: starting a new one")
            self._forget_task(state)
            return None
        if view["status"] == "FAILED":
            if not self.options.resume:
                outcome.view = view
                raise TaskEnded(view)
            error = view.get("error") or {}
            self.display.note(f"task {view['id']} failed at {failed_stage(view)} "
                              f"([{error.get('code')}] {error.get('message')}): resuming it")
            view = self.client.resume_task(view["id"])
            outcome.resumed = True
        else:
            self.display.note(f"continuing task {view['id']} ({view['status'].lower()})")
        return view

    def _forget_task(self, state: RunState) -> None:
        # A new task needs a new key: the old one would answer with the task being replaced.
        state.task_id, state.status, state.idempotency_key = None, None, None
        state.files.clear()
        save_state(self.options.out, state)

    def _ensure_upload(self, outcome: RunOutcome) -> None:
        state = outcome.state
        if state.dataset.relative_path and self._still_there(state.dataset.relative_path):
            self.display.note(f"dataset already uploaded as {state.dataset.relative_path}")
            return
        started = self.clock()
        self.display.note(f"uploading {self.options.dataset.name}")
        signed = self.client.upload_signed(self.options.dataset, "application/json")
        state.dataset.relative_path = signed["relative_path"]
        state.idempotency_key = None  # another blueprint_path: another body, so another key
        state.timings["upload"] = round(self.clock() - started, 3)
        outcome.uploaded = True
        save_state(self.options.out, state)

    def _still_there(self, relative_path: str) -> bool:
        try:
            self.client.signed_url(relative_path)
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _create(self, outcome: RunOutcome) -> dict[str, Any]:
        state = outcome.state
        payload = {"blueprint_path": state.dataset.relative_path, **self.options.payload}
        if state.idempotency_key is None:
            state.idempotency_key = new_key()
            save_state(self.options.out, state)  # before the request, which may be cut short
        view = create_task(self.client, TASK_TYPE, payload, state.idempotency_key,
                           sleep=self.sleep)
        state.task_id, state.status = view["id"], view["status"]
        state.files.clear()
        outcome.created = True
        save_state(self.options.out, state)
        self.display.note(f"task {view['id']} created")
        return view

    # ------------------------------------------------------------------ downloads

    def _download(self, outcome: RunOutcome) -> None:
        state, out = outcome.state, self.options.out
        results = outcome.view.get("results") or {}
        digests = recorded_digests(results)
        wanted = local_names(artifact_paths(results), digests)
        started = self.clock()
        limit = RateLimit(self.options.limit_rate)
        script = (results.get("dubbing_assembly") or {}).get("output_file_path")
        first = [w for w in wanted if w.relative_path == script]
        self._fetch(outcome, first, limit, announce=False)  # it lists the segment WAVs
        if first and first[0].relative_path in state.files:
            names = {w.name for w in wanted}
            extra = [w for w in local_names(segment_audio_paths(out / first[0].name), digests)
                     if w.name not in names]
            wanted += extra
        self._fetch(outcome, [w for w in wanted if w not in first], limit, announce=True)
        if outcome.downloaded:  # a run that found everything here keeps the real figure
            state.timings["download"] = round(self.clock() - started, 3)
        save_state(out, state)

    def _fetch(self, outcome: RunOutcome, wanted: list[Wanted], limit: RateLimit, *,
               announce: bool) -> None:
        state, out = outcome.state, self.options.out
        todo = []
        for item in wanted:
            record = state.files.get(item.relative_path)
            if record is not None and record.name == item.name and is_present(out, record):
                outcome.skipped.append(item.name)
            else:
                todo.append(item)
        if announce:
            self.display.downloads(len(todo))
        if not todo:
            return

        def landed(item: Wanted, record: Any) -> None:
            state.files[item.relative_path] = record
            outcome.downloaded.append(item.name)
            save_state(out, state)
            self.display.downloaded_file(item.name)

        errors = fetch_all(self.client, todo, out, parallel=self.options.parallel, limit=limit,
                           on_bytes=self.display.downloaded_bytes, on_done=landed)
        if errors:
            raise DownloadsFailed(errors)


def failed_stage(view: dict[str, Any]) -> str:
    """The stage a FAILED task stopped at: the first of its stages without a result."""
    results = view.get("results") or {}
    for stage in view.get("stages") or []:
        if stage not in results:
            return str(stage)
    return str(view.get("stage") or "?")
