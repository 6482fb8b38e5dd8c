"""Polling delays: exponential with a cap and a little jitter, back to the start whenever the
task moves, so a busy task is followed closely and an idle one is not hammered."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float = 0.25
    factor: float = 1.6
    maximum: float = 3.0
    jitter: float = 0.1  # fraction of the delay, either way: clients polling together drift apart
    random: Callable[[], float] = field(default=random.random, repr=False)
    _current: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum or self.factor < 1 or not 0 <= self.jitter < 1:
            raise ValueError(f"invalid backoff {self}")
        self._current = self.initial

    def next(self) -> float:
        """The delay before the next poll; each call grows the following one up to the cap."""
        delay = self._current
        self._current = min(self.maximum, self._current * self.factor)
        spread = delay * self.jitter
        return max(0.0, delay + spread * (2 * self.random() - 1))

    def reset(self) -> None:
        self._current = self.initial


# The longest `Retry-After` the edge waits out: a quota that frees later (the next UTC day)
# is reported at once, with the server's message naming it, rather than slept on.
MAX_RETRY_AFTER = 60.0


def retry_after_seconds(header: str | None) -> float | None:
    """The seconds a `Retry-After` header asks for (seconds only; a date counts as absent)."""
    if header is None:
        return None
    try:
        return max(float(header), 0.0)
    except ValueError:
        return None


def retry_after(header: str | None, default: float) -> float:
    """Seconds to wait from a `Retry-After` header, at most `MAX_RETRY_AFTER`; `default`
    without one."""
    seconds = retry_after_seconds(header)
    return default if seconds is None else min(seconds, MAX_RETRY_AFTER)
