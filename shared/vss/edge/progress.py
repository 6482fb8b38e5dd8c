"""What `vss run` and `vss task wait` show while they work: bars for the task's stages, the
dubbing segments and the downloads on stderr (rich), one plain line per event where stderr is
not a terminal, nothing at all with `--json` (stdout then carries only the JSON)."""

from __future__ import annotations

from typing import Any, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Display(Protocol):
    def note(self, text: str) -> None: ...
    def task_view(self, view: dict[str, Any]) -> None: ...
    def downloads(self, files: int) -> None: ...
    def downloaded_bytes(self, size: int) -> None: ...
    def downloaded_file(self, name: str) -> None: ...
    def close(self) -> None: ...


class QuietDisplay:
    def note(self, text: str) -> None: ...
    def task_view(self, view: dict[str, Any]) -> None: ...
    def downloads(self, files: int) -> None: ...
    def downloaded_bytes(self, size: int) -> None: ...
    def downloaded_file(self, name: str) -> None: ...
    def close(self) -> None: ...


def stage_line(view: dict[str, Any]) -> str:
    """`dubbing (2/4), 12/30 segments` for the current state of a task."""
    stages: list[str] = list(view.get("stages") or [])
    stage = view.get("stage")
    if view.get("status") in ("COMPLETED", "FAILED", "CANCELED") or not stage:
        return str(view.get("status", "?"))
    where = f"{stage} ({stages.index(stage) + 1}/{len(stages)})" if stage in stages else stage
    progress = view.get("progress")
    if progress and progress.get("stage") == stage:  # a finished fan-out is no news
        where += f", {progress['done']}/{progress['total']} segments"
    return where


class RichDisplay:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.live = self.console.is_terminal
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description:<28}"), BarColumn(),
            MofNCompleteColumn(), TextColumn("{task.fields[extra]}"), TimeElapsedColumn(),
            console=self.console, transient=False, disable=not self.live)
        self._stages: TaskID | None = None
        self._segments: TaskID | None = None
        self._files: TaskID | None = None
        self._received = 0
        self._last = ""
        if self.live:
            self.progress.start()

    def note(self, text: str) -> None:
        # One line per event, however narrow the terminal: scripts grep these.
        self.console.print(f"vss: {text}", highlight=False, markup=False, soft_wrap=True)

    def task_view(self, view: dict[str, Any]) -> None:
        stages = list(view.get("stages") or [])
        finished = sum(1 for s in stages if s in (view.get("results") or {}))
        if view.get("status") == "COMPLETED":
            finished = len(stages)
        line = stage_line(view)
        if line != self._last:
            self._last = line
            if not self.live:
                self.note(f"task {view.get('id')}: {line}")
        if self._stages is None:
            self._stages = self.progress.add_task("stages", total=max(1, len(stages)), extra="")
        self.progress.update(self._stages, total=max(1, len(stages)), completed=finished,
                             description=f"stage {view.get('stage') or view.get('status')}",
                             extra="")
        progress = view.get("progress")
        if progress:
            if self._segments is None:
                self._segments = self.progress.add_task("segments", total=progress["total"],
                                                        extra="")
            self.progress.update(self._segments, total=progress["total"],
                                 completed=progress["done"],
                                 description=f"{progress['stage']} segments", extra="")
        elif self._segments is not None and "dubbing_assembly" in (view.get("results") or {}):
            task = self.progress.tasks[self._segments]
            self.progress.update(self._segments, completed=task.total)

    def downloads(self, files: int) -> None:
        if not self.live and files:
            self.note(f"downloading {files} files")
        self._files = self.progress.add_task("download", total=max(1, files), extra="")
        if files == 0:
            self.progress.update(self._files, completed=1)

    def downloaded_bytes(self, size: int) -> None:
        self._received += size
        if self._files is not None:
            self.progress.update(self._files, extra=f"{self._received / 1e6:.1f} MB")

    def downloaded_file(self, name: str) -> None:
        if self._files is not None:
            self.progress.update(self._files, advance=1)

    def close(self) -> None:
        if self.live:
            self.progress.stop()
