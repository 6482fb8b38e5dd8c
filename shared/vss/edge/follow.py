"""Follow a task until it ends: poll with backoff, ride out a flaky network or a busy API, and
time each stage as the client sees it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from vss.edge.backoff import Backoff, retry_after
from vss.edge.client import TERMINAL, ApiError, EdgeClient, is_transient
from vss.edge.errors import EdgeError
from vss.edge.progress import Display

# A 5xx or 429 answer, or no answer, is waited out this long before the CLI gives up.
UNREACHABLE_GRACE = 120.0


class FollowTimeout(EdgeError):
    def __init__(self, view: dict[str, Any], seconds: float) -> None:
        super().__init__(f"task {view.get('id')} still {view.get('status')} after "
                         f"{seconds:.0f} s (run the same command again to keep waiting)")
        self.view = view


@dataclass
class StageClock:
    """Wall time of each stage as the polls see it: from the first poll that shows the stage
    current to the first that shows it finished."""

    clock: Callable[[], float] = time.monotonic
    seconds: dict[str, float] = field(default_factory=dict)
    #: stages that began and ended between two polls: their time is in the stage seen before
    between_polls: list[str] = field(default_factory=list)
    _current: str | None = None
    _since: float = 0.0
    _looked: bool = False
    _finished: set[str] = field(default_factory=set)

    def observe(self, view: dict[str, Any]) -> None:
        now = self.clock()
        stage = None if view.get("status") in TERMINAL else view.get("stage")
        results = list(view.get("results") or {})
        if self._looked:
            self.between_polls += [s for s in results if s not in self._finished
                                   and s != self._current and s not in self.between_polls]
        self._looked, self._finished = True, set(results)
        if stage == self._current:
            return
        if self._current is not None:
            self.seconds[self._current] = self.seconds.get(self._current, 0.0) + now - self._since
        self._current, self._since = stage, now


def _state_of(view: dict[str, Any]) -> tuple[Any, ...]:
    progress = view.get("progress") or {}
    return view.get("status"), view.get("stage"), progress.get("done")


def follow(client: EdgeClient, view: dict[str, Any], display: Display, *, timeout: float,
           backoff: Backoff | None = None, stage_clock: StageClock | None = None,
           clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Poll the task of `view` until it is COMPLETED, FAILED or CANCELED; its last view."""
    backoff = backoff or Backoff()
    stage_clock = stage_clock or StageClock(clock)
    deadline = clock() + timeout
    unreachable_since: float | None = None
    last = _state_of(view)
    display.task_view(view)
    stage_clock.observe(view)
    while view["status"] not in TERMINAL:
        if clock() > deadline:
            raise FollowTimeout(view, timeout)
        delay = backoff.next()
        try:
            fresh = client.get_task(view["id"])
        except (requests.ConnectionError, requests.Timeout, ApiError) as exc:
            if not is_transient(exc):
                raise
            unreachable_since = unreachable_since or clock()
            if clock() - unreachable_since > UNREACHABLE_GRACE:
                raise
            if isinstance(exc, ApiError):
                delay = retry_after(exc.retry_after, delay)
            sleep(delay)
            continue
        unreachable_since = None
        view = fresh
        stage_clock.observe(view)
        display.task_view(view)
        if _state_of(view) != last:  # it moved: look again soon
            last = _state_of(view)
            backoff.reset()
            delay = backoff.next()
        if view["status"] not in TERMINAL:
            sleep(delay)
    return view
