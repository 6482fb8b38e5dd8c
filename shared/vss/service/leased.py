"""The one runner of leased work, shared by stages and segments: claim → heartbeat →
finish | release | fail, every step after the claim fenced by the attempt's token.

A piece of work (`LeasedWork`) says how to claim it, renew its lease and record each outcome
in its own documents; the runner owns the order of those steps, the heartbeat, the error
policy (permanent errors fail the task, anything else gives the work back for a redelivery)
and what happens to a stale attempt: it is dropped with a log line, its usage still charged.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from vss.deps import Deps
from vss.domain.failures import TaskError
from vss.domain.usage import Meter, Usage
from vss.errors import PermanentError, RetryableError, UnexpectedError, VssError
from vss.service.failures import safe_error

log = logging.getLogger(__name__)

Out = TypeVar("Out")
OutIn = TypeVar("OutIn", contravariant=True)
RUN = "run"  # the claim decision that hands the work to this attempt (StageClaim, SegmentClaim)


class LeasedWork(Protocol[OutIn]):
    """One piece of leased work as the runner drives it. Every method after `claim` names the
    attempt's token and changes nothing if that token is no longer current; each charges the
    attempt's usage either way (what its meter counted, plus for an output what the output
    reports besides), to the task and then to its tenant's day (`vss.service.spending`), and
    returns whether the token was current."""

    what: str  # for log lines: "stage narration", "segment 3"
    labels: dict[str, str]
    lease: timedelta

    def claim(self, token: str) -> str:
        """Take the work for `token` if it is free; the decision (`RUN` to go on). Any other
        decision is the work's own business (drop the message, or raise to send it back)."""
        ...
    def renew(self, token: str, until: datetime) -> None: ...
    def release(self, token: str, error: TaskError, spent: Usage) -> bool: ...
    def fail(self, token: str, error: TaskError, spent: Usage) -> bool: ...
    def finish(self, token: str, output: OutIn, spent: Usage) -> bool: ...


@dataclass(frozen=True)
class Attempt:
    """What the work's body is given: its fencing token and the meter of what it spends on
    model calls, charged even if the attempt fails or turns out stale."""

    token: str
    spent: Meter


@dataclass(frozen=True)
class Outcome:
    decision: str  # the claim's decision
    committed: bool = False  # this attempt's output was recorded


def new_token() -> str:
    return uuid.uuid4().hex[:16]


def run_leased(deps: Deps, work: LeasedWork[Out], body: Callable[[Attempt], Out]) -> Outcome:
    """Claim `work`, run `body` under a kept-alive lease and record its outcome. Raises
    RetryableError (for the trigger to redeliver) when a current attempt failed transiently."""
    attempt = Attempt(new_token(), Meter())
    decision = work.claim(attempt.token)
    if decision != RUN:
        return Outcome(decision)
    try:
        with _kept_alive(deps, work, attempt.token):
            output = body(attempt)
    except PermanentError as exc:
        if not work.fail(attempt.token, safe_error(deps.settings, exc), attempt.spent.total):
            _dropped(work, "its permanent error")
        return Outcome(decision)
    except Exception as exc:
        error = exc if isinstance(exc, VssError) else UnexpectedError(
            f"{type(exc).__name__}: {exc}")
        safe = safe_error(deps.settings, error)
        if not work.release(attempt.token, safe, attempt.spent.total):
            _dropped(work, "its error")
            return Outcome(decision)
        # The log formatter masks secrets in this text too.
        trace = "" if isinstance(exc, VssError) else "\n" + "".join(
            traceback.format_exception(exc))
        log.warning("%s failed, will retry: %s%s", work.what, safe.message, trace,
                    extra=work.labels)
        # Raised without its cause: the functions framework logs whatever propagates, verbatim.
        raise RetryableError(safe.message, details=safe.details, code=safe.code) from None
    if not work.finish(attempt.token, output, attempt.spent.total):
        _dropped(work, "its output")
        return Outcome(decision)
    return Outcome(decision, committed=True)


def _dropped(work: LeasedWork[Out], what: str) -> None:
    log.warning("%s: stale attempt, %s dropped (another attempt holds the work, or the task "
                "ended); its usage is charged", work.what, what, extra=work.labels)


@contextmanager
def _kept_alive(deps: Deps, work: LeasedWork[Out], token: str) -> Iterator[None]:
    """Renew the lease while the body runs, so only a dead or paused worker loses it."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(work.lease.total_seconds() / 3):
            try:
                work.renew(token, deps.clock() + work.lease)
            except Exception:  # a missed beat only shortens the lease
                log.warning("lease renewal failed", extra=work.labels)

    # The heartbeat logs under the work's trace too: run it in a copy of this context.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(beat,),
                              daemon=True, name=f"lease-{token}")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
