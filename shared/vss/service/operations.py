"""What the operations console reads about the pipeline itself: what failed lately (dead letters,
tasks past their deadline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from vss.deps import Deps
from vss.domain.dead_letters import DeadLetter
from vss.domain.tasks import Task
from vss.errors import DeadlineExceeded

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
