"""`vss smoke`: the seed's edge workflow, the chained task and a resume against a deployment.

What an operator runs after `terraform apply` (and `make test` runs against the local stack):
every call the real edge makes, in its order, with every downloaded file checked against the
sha256 its task's result records. One line per step with its timing; the first failure stops
the run with the server's code and message.

Steps (the seed's section 6, then what this cloud adds):
 1. upload the dataset (signed URL)          6. download the editing script
 2. narration task (the dubbing's input)     7. check the cut the edge composes: every clip
 3. dubbing task                                list adds up to its narration's audio
 4. download the dubbing script              8. the chained commentary task, every artifact
 5. download every segment WAV               9. a resume: a task failed by an invalid input
    then the editing task                       is resumed and fails again with that cause
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from vss.edge.client import ApiError, EdgeClient
from vss.edge.errors import EdgeError
from vss.edge.run import recorded_artifacts

TASK_TIMEOUT = 900.0  # seconds a task may take before the smoke test gives up on it
# Slack between a narration's audio and the clips laid under it: under two frames at 24 fps.
CUT_TOLERANCE_SECONDS = 0.07


class SmokeFailed(EdgeError):
    """A step failed: what was expected and what the deployment did."""


@dataclass
class Step:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class SmokeRun:
    client: EdgeClient
    dataset: Path
    say: Callable[[str], None] = print
    steps: list[Step] = field(default_factory=list)
    task_timeout: float = TASK_TIMEOUT
    minutes: float = 1.0  # the narration's target length: a short one keeps the run quick

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Time one step and print its line; the body may append a detail."""
        detail: list[str] = []
        start = time.monotonic()
        number = len(self.steps) + 1
        try:
            yield detail
        except ApiError as exc:
            self.say(f"{number:>2} {name:<34} FAILED  HTTP {exc.status}: error {exc.code}: "
                     f"{exc.message}")
            raise
        except SmokeFailed as exc:
            self.say(f"{number:>2} {name:<34} FAILED  {exc}")
            raise
        seconds = time.monotonic() - start
        self.steps.append(Step(name, seconds, " ".join(detail)))
        self.say(f"{number:>2} {name:<34} ok {seconds:7.2f} s  {' '.join(detail)}".rstrip())

    # -------------------------------------------------------------- the workflow

    def run(self) -> list[Step]:
        with self.step("upload the dataset") as note:
            dataset = self.client.upload_signed(self.dataset)["relative_path"]
            note.append(dataset)
        with self.step("narration task") as note:
            narration = self._completed("GENERATE_NARRATION", {
                "blueprint_path": dataset, "service_params": {"control_params": self._length}},
                note)
        with self.step("dubbing task") as note:
            dubbing = self._completed("GENERATE_DUBBING", {
                "input_narration_path": narration["result"]["output_file_path"]}, note)
        with self.step("download the dubbing script") as note:
            script = json.loads(self._result(dubbing, note))
        with self.step("download every segment WAV") as note:
            wavs = {PurePosixPath(item["audio_file_path"]).name: self._file(
                dubbing, item["audio_file_path"]) for item in script["dubbing_script"]}
            note.append(f"{len(wavs)} WAVs, {sum(map(len, wavs.values())):,} bytes")
        with self.step("editing task") as note:
            editing = self._completed("GENERATE_EDITING_SCRIPT", {
                "dubbing_script_path": dubbing["result"]["output_file_path"],
                "blueprint_path": dataset}, note)
        with self.step("download the editing script") as note:
            cut = json.loads(self._result(editing, note))
        with self.step("check the cut the edge composes") as note:
            _check_cut(cut, script, wavs)
            note.append(f"{len(cut['editing_script'])} entries")
        with self.step("commentary task, every artifact") as note:
            chained = self._completed("GENERATE_COMMENTARY", {
                "blueprint_path": dataset, "narration": {"control_params": self._length}}, note)
            paths = list(recorded_artifacts(chained["results"]))
            for path in paths:
                self._file(chained, path)
            note.append(f"{len(paths)} files")
        with self.step("resume a failed task") as note:
            self._resume_refused_input(note)
        return self.steps

    # -------------------------------------------------------------- helpers

    @property
    def _length(self) -> dict[str, float]:
        return {"target_duration_minutes": self.minutes}

    def _completed(self, task_type: str, payload: dict[str, Any], note: list[str]
                   ) -> dict[str, Any]:
        task = self.client.create_task(task_type, payload)
        done = self.client.wait(task["id"], timeout=self.task_timeout)
        if done["status"] != "COMPLETED":
            raise SmokeFailed(f"{task_type} {task['id']} ended {done['status']}: "
                              f"{_error_line(done.get('error'))}")
        note.append(task["id"])
        return done

    def _result(self, task: dict[str, Any], note: list[str]) -> bytes:
        data = self.client.download_result(task["id"])
        _verify(task, task["result"]["output_file_path"], data)
        note.append(f"{len(data):,} bytes")
        return data

    def _file(self, task: dict[str, Any], path: str) -> bytes:
        data = self.client.download_path(path)
        _verify(task, path, data)
        return data

    def _resume_refused_input(self, note: list[str]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            invalid = Path(folder) / "not-a-dataset.json"
            invalid.write_text('{"scenes": "none"}')
            path = self.client.upload_signed(invalid)["relative_path"]
        task = self.client.create_task("GENERATE_NARRATION", {"blueprint_path": path})
        failed = self.client.wait(task["id"], timeout=self.task_timeout)
        if failed["status"] != "FAILED" or (failed.get("error") or {}).get("code") != 3004:
            raise SmokeFailed(f"a task on an invalid dataset ended {failed['status']} "
                              f"({_error_line(failed.get('error'))}), not FAILED with 3004")
        try:
            self.client.resume_task(task["id"])
        except ApiError as exc:
            # The task failed while it waited on the upload's check: the resume checks the
            # input again and refuses at once with its error.
            if (exc.status, exc.code) != (422, 3004):
                raise SmokeFailed(f"resume answered {exc.status} ({exc.code} {exc.message}), "
                                  "not 200 or 422 with 3004") from None
            note.append(f"{task['id']}: FAILED 3004, resume refused with the input's 3004")
            return
        again = self.client.wait(task["id"], timeout=self.task_timeout)
        codes = [e.get("code") for e in again.get("errors") or []]
        if again["status"] != "FAILED" or codes != [3004, 3004]:
            raise SmokeFailed(f"the resumed task ended {again['status']} with errors {codes}, "
                              "not FAILED again with both causes kept")
        note.append(f"{task['id']}: FAILED 3004, resumed, FAILED 3004 again")


def _error_line(error: Any) -> str:
    if not isinstance(error, dict):
        return "no error recorded"
    return f"error {error.get('code')}: {error.get('message')}"


def _verify(task: dict[str, Any], path: str, data: bytes) -> None:
    """`data` is the file `task`'s results record under `path` (sha256 and size)."""
    digest = recorded_artifacts(task["results"]).get(path)
    if digest is None:
        raise SmokeFailed(f"{path}: not among the files task {task['id']} recorded")
    got = hashlib.sha256(data).hexdigest()
    if (got, len(data)) != (digest["sha256"], digest["size"]):
        raise SmokeFailed(f"{path}: {len(data)} bytes with sha256 {got[:12]}…, the task "
                          f"recorded {digest['size']} bytes with {digest['sha256'][:12]}…")


def _check_cut(cut: dict[str, Any], script: dict[str, Any], wavs: dict[str, bytes]) -> None:
    """What the seed's edge needs to compose: each entry's audio is a downloaded WAV (by
    basename) and its clips add up to that audio's duration."""
    durations = {PurePosixPath(item["audio_file_path"]).name: item["duration_seconds"]
                 for item in script["dubbing_script"]}
    for index, entry in enumerate(cut["editing_script"]):
        audio = PurePosixPath(entry["narration_audio_path"]).name
        if audio not in wavs:
            raise SmokeFailed(f"editing entry {index}: {audio} is not a dubbing WAV")
        clips = sum(float(clip["duration"]) for clip in entry["b_roll_clips"])
        if abs(clips - durations[audio]) > CUT_TOLERANCE_SECONDS:
            raise SmokeFailed(f"editing entry {index}: clips last {clips:.3f} s, its narration "
                              f"{durations[audio]:.3f} s")
