"""What the operations console reads about the pipeline itself: what failed lately (dead letters,
tasks past their deadline) and what runs (each function's latest start); and the start record
each function writes when an instance starts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from vss.deps import Deps
from vss.domain.dead_letters import DeadLetter
from vss.domain.function_starts import FUNCTIONS, FunctionStart
from vss.domain.tasks import Task
from vss.errors import DeadlineExceeded
from vss.ports import QueueBacklog

log = logging.getLogger(__name__)

RECENT = timedelta(hours=24)
# Rows per table: a flood of failures is summarised by its latest, not read whole.
FAILURES_SHOWN = 100


@dataclass(frozen=True)
class RecentFailures:
    """Dead letters received, and tasks failed by their deadline, since `since`, newest first;
    `more_*`: there were more than the lists hold."""

    since: datetime
    dead_letters: list[DeadLetter]
    deadline_failures: list[Task]
    more_dead_letters: bool
    more_deadline_failures: bool


def recent_failures(deps: Deps, window: timedelta = RECENT,
                    limit: int = FAILURES_SHOWN) -> RecentFailures:
    since = deps.clock() - window
    letters = deps.dead_letters.since(since, limit=limit + 1)
    # Newest failure first: everything past the first one older than the window is older too.
    failed = deps.tasks.latest_failures(code=DeadlineExceeded.code, limit=limit + 1)
    recent = [t for t in failed if t.modified >= since]
    return RecentFailures(since=since, dead_letters=letters[:limit],
                          deadline_failures=recent[:limit],
                          more_dead_letters=len(letters) > limit,
                          more_deadline_failures=len(recent) > limit)


def record_start(deps: Deps, start: FunctionStart) -> bool:
    """Record a function instance's start; whether it was recorded. Never raises: a function
    that cannot write it (the database unreachable, a permission missing) starts all the
    same, and says so in one warning."""
    try:
        deps.starts.record(start)
    except Exception as exc:  # whatever the client raises, the function must start
        log.warning("start of %s not recorded: %s", start.function, type(exc).__name__)
        return False
    log.info("%s started: version %s, revision %s", start.function,
             start.version or "not installed", start.revision or "none (not on Cloud Run)")
    return True


@dataclass(frozen=True)
class FunctionHealth:
    """A function and its latest start (None: it never recorded one)."""

    function: str
    start: FunctionStart | None


def function_health(deps: Deps) -> list[FunctionHealth]:
    """Every deployed function in `FUNCTIONS` order, then any other that recorded a start (a
    function since renamed or removed)."""
    latest = {s.function: s for s in deps.starts.latest()}
    others = sorted(set(latest) - set(FUNCTIONS))
    return [FunctionHealth(name, latest.get(name)) for name in (*FUNCTIONS, *others)]


@dataclass(frozen=True)
class Health:
    """Every function's latest start, and the deadline queue's backlog, as of `checked_at`."""

    checked_at: datetime
    functions: list[FunctionHealth]
    deadline_queue: QueueBacklog


def health(deps: Deps) -> Health:
    return Health(checked_at=deps.clock(), functions=function_health(deps),
                  deadline_queue=deps.deadlines.backlog())
