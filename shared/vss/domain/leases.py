"""Leased work: a task's stage or a dubbing segment, held by one attempt at a time.

A claim gives the attempt a fencing token (`attempt`). Every later write of that attempt —
heartbeat, finish, release, fail — names its token and changes nothing once the token is no
longer current: a twin retook the work after the lease ran out, a resume started afresh, or
the work finished. So an attempt that was paused, partitioned or simply slow can never
overwrite the outcome of the attempt that replaced it; it is dropped and only its usage is
charged. The same rules serve stages (`vss.domain.tasks.StageRun`) and segments
(`vss.domain.segments.Segment`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, Field

from vss.domain.failures import TaskError
from vss.errors import RetryableError


class LeaseState(StrEnum):
    WAITING = "waiting"  # a stage waiting on fanned-out work (segments)
    QUEUED = "queued"  # ready for the next claim
    RUNNING = "running"  # held by the attempt `attempt` until `lease_until`
    DONE = "done"


class Lease(BaseModel):
    """Who holds a piece of work, until when, and how often it was tried."""

    state: LeaseState = LeaseState.QUEUED
    attempts: int = Field(0, description="Claims since the work was (re)started.")
    attempt: str | None = Field(None, description="Fencing token of the latest claim.")
    lease_until: datetime | None = None
    claimed_at: datetime | None = Field(None, description="When the latest claim was made.")
    last_error: TaskError | None = None

    def is_live(self, now: datetime) -> bool:
        """Held by an attempt whose lease has not run out (a twin must wait)."""
        return self.state == LeaseState.RUNNING and self.lease_until is not None \
            and self.lease_until > now

    def is_stalled(self, now: datetime) -> bool:
        """Nobody is working on it: queued, or held under a lease that ran out."""
        return self.state == LeaseState.QUEUED or (
            self.state == LeaseState.RUNNING and not self.is_live(now))

    def holds(self, token: str) -> bool:
        """Whether `token` is the attempt that may still write the outcome."""
        return self.state == LeaseState.RUNNING and self.attempt == token

    def claimed(self, token: str, now: datetime, lease: timedelta) -> Self:
        return self.model_copy(update={"state": LeaseState.RUNNING,
                                       "attempts": self.attempts + 1, "attempt": token,
                                       "lease_until": now + lease, "claimed_at": now})

    def renewed(self, token: str, until: datetime) -> Self:
        return self.model_copy(update={"lease_until": until}) if self.holds(token) else self

    def released(self, token: str, error: TaskError) -> Self:
        """A transient failure of `token`: queued again for the redelivered message."""
        if not self.holds(token):
            return self
        return self.model_copy(update={"state": LeaseState.QUEUED, "lease_until": None,
                                       "last_error": error})

    def ended(self, token: str, state: LeaseState = LeaseState.DONE) -> Self:
        """`token`'s attempt is over (done, or failed for good): its lease no longer holds."""
        if not self.holds(token):
            return self
        return self.model_copy(update={"state": state, "lease_until": None})

    def restarted(self, now: datetime) -> Self:
        """A resume: fresh attempts, unless an attempt is alive (it is never taken over)."""
        if self.state == LeaseState.DONE or self.is_live(now):
            return self
        return self.model_copy(update={"state": LeaseState.QUEUED, "attempts": 0,
                                       "attempt": None, "lease_until": None})


def exhausted_error(what: str, lease: Lease, details: dict[str, Any]) -> TaskError:
    """The task's error when `what` spent every attempt: the last cause, and how often."""
    cause = lease.last_error
    return TaskError(
        code=cause.code if cause else RetryableError.code,
        message=f"{what} failed after {lease.attempts} attempts: "
                f"{cause.message if cause else 'no cause recorded'}",
        details={**details, "attempts": lease.attempts,
                 "last_error": cause.model_dump() if cause else None},
    )
