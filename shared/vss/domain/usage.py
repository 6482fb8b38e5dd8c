"""What work spent: model tokens and calls, speech characters and the estimated cost.

One value type from a single model call up to a tenant's day: a call's usage, an attempt's
(`Meter`), a segment's, a task's and a tenant's day's (`TenantDay`) are all `Usage`, summed
with `+`. Every attempt is paid for, so a failed or stale attempt's usage is added to its task,
and to its tenant's day, too.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict


class Usage(BaseModel):
    """Counters of spending; the task's document keeps them under the same names, which is
    what lets finishing segments add theirs as Firestore increments."""

    model_config = ConfigDict(frozen=True)

    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    llm_calls: int = 0
    tts_characters: int = 0
    cost_usd: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            llm_input_tokens=self.llm_input_tokens + other.llm_input_tokens,
            llm_output_tokens=self.llm_output_tokens + other.llm_output_tokens,
            llm_calls=self.llm_calls + other.llm_calls,
            tts_characters=self.tts_characters + other.tts_characters,
            cost_usd=round(self.cost_usd + other.cost_usd, 6),
        )

    @property
    def is_zero(self) -> bool:
        return self == NO_USAGE

    def counters(self) -> dict[str, int | float]:
        """The non-zero counters by name (what an increment of a stored usage adds)."""
        return {name: value for name, value in self.model_dump().items() if value}


NO_USAGE = Usage()


class Meter:
    """The running total of one attempt: each model call adds to it as it returns, so what
    an attempt spent before it failed is still charged to its task."""

    def __init__(self) -> None:
        self.total = NO_USAGE
        self._lock = threading.Lock()  # a handler may call its model from several threads

    def add(self, usage: Usage) -> None:
        with self._lock:
            self.total += usage


# How long the usage ledger keeps a tenant's day (its TTL): over a year, so a month or a
# season can be compared with the same one a year before.
LEDGER_RETENTION = timedelta(days=400)


class TenantDay(BaseModel):
    """What one tenant spent and uploaded on one UTC day: the unit of the usage ledger, and
    what the tenant's daily quotas (speech characters, model tokens, upload bytes) are checked
    against. Uploads are the tenant's, not a task's: they are counted here, not in `Usage`."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    day: date
    usage: Usage
    upload_bytes: int = 0


def utc_day(at: datetime) -> date:
    """The UTC day of an aware `at` (a naive time could be any day: refused)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at!r} has no time zone")
    return at.astimezone(UTC).date()


def ledger_expiry(day: date) -> datetime:
    """When the ledger's record of `day` may be deleted (`LEDGER_RETENTION` after the day)."""
    return datetime.combine(day, time(), UTC) + LEDGER_RETENTION
