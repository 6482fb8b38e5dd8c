"""Per-tenant quotas: what a tenant may run and spend, and the pure decisions about them.

Five quotas (`Quota`): tasks running at once, tasks created per hour (a sliding hour), bytes
uploaded per UTC day, speech characters per UTC day and model tokens (input and output) per
UTC day. Each has a default limit (the settings, `VSS_QUOTA_*`); a tenant's document may
override any of them (`QuotaOverrides`): a number, `unlimited`, or nothing (the default).

A request that does not fit raises the quota's own error (`vss.errors.QUOTA_ERRORS`, HTTP 429)
with the seconds after which it could fit (`Retry-After`):
- running tasks: `RUNNING_TASKS_RETRY_SECONDS`, a fixed short wait (when a task ends cannot be
  known in advance);
- tasks per hour: until the oldest task of the hour leaves the window;
- daily quotas: until the next UTC midnight, when the day's counters start again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from vss.domain.usage import NO_USAGE, Usage, utc_day
from vss.errors import QUOTA_ERRORS

# A wait long enough for a task to move on, short enough to take the slot soon after it frees.
RUNNING_TASKS_RETRY_SECONDS = 30
HOUR = timedelta(hours=1)
UNLIMITED = "unlimited"


class Quota(StrEnum):
    RUNNING_TASKS = "running_tasks"
    TASKS_PER_HOUR = "tasks_per_hour"
    UPLOAD_BYTES_PER_DAY = "upload_bytes_per_day"
    TTS_CHARACTERS_PER_DAY = "tts_characters_per_day"
    LLM_TOKENS_PER_DAY = "llm_tokens_per_day"


Limit = Annotated[int, Field(ge=0)]


class QuotaLimits(BaseModel):
    """A tenant's effective limits; None is unlimited, 0 refuses everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    running_tasks: Limit | None = None
    tasks_per_hour: Limit | None = None
    upload_bytes_per_day: Limit | None = None
    tts_characters_per_day: Limit | None = None
    llm_tokens_per_day: Limit | None = None

    def of(self, quota: Quota) -> int | None:
        limit: int | None = getattr(self, quota.value)
        return limit


class QuotaOverrides(BaseModel):
    """A tenant's own limits, kept on its document: a number, `unlimited` (no limit whatever
    the default), or None: the default applies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    running_tasks: Limit | Literal["unlimited"] | None = None
    tasks_per_hour: Limit | Literal["unlimited"] | None = None
    upload_bytes_per_day: Limit | Literal["unlimited"] | None = None
    tts_characters_per_day: Limit | Literal["unlimited"] | None = None
    llm_tokens_per_day: Limit | Literal["unlimited"] | None = None

    def changed(self, changes: dict[Quota, int | str | None]) -> QuotaOverrides:
        """These overrides with `changes` applied (None clears one: the default applies)."""
        return QuotaOverrides.model_validate(
            {**self.model_dump(), **{quota.value: value for quota, value in changes.items()}})


def effective_limits(defaults: QuotaLimits, overrides: QuotaOverrides) -> QuotaLimits:
    """The limits that apply: each override, else the default."""
    limits: dict[str, int | None] = {}
    for quota in Quota:
        override = getattr(overrides, quota.value)
        limits[quota.value] = None if override == UNLIMITED else \
            defaults.of(quota) if override is None else override
    return QuotaLimits.model_validate(limits)


def parse_override(text: str) -> int | str | None:
    """An override as an operator writes it: a number, `unlimited`, or `default` (None)."""
    if text == "default":
        return None
    if text == UNLIMITED:
        return UNLIMITED
    value = int(text)
    if value < 0:
        raise ValueError(f"a limit is 0 or more, not {value}")
    return value


def fits(limit: int | None, used: int, requested: int) -> bool:
    """Whether `requested` more fits under `limit` with `used` already counted."""
    return limit is None or used + requested <= limit


def seconds_to_next_utc_day(now: datetime) -> int:
    """Whole seconds (at least 1) until the next UTC midnight: when daily counters restart."""
    midnight = datetime.combine(utc_day(now) + timedelta(days=1), time(), UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))


def seconds_until_hour_frees(oldest_in_hour: datetime | None, now: datetime) -> int:
    """Whole seconds (at least 1) until the oldest task created in the last hour leaves it."""
    if oldest_in_hour is None:
        return 1
    return max(1, math.ceil((oldest_in_hour + HOUR - now).total_seconds()))


def enforce(quota: Quota, limit: int | None, used: int, requested: int,
            retry_after_seconds: int) -> None:
    """Raise the quota's error unless `requested` more fits (see `fits`)."""
    if fits(limit, used, requested):
        return
    raise QUOTA_ERRORS[quota.value](
        f"The tenant's {quota.value} quota ({limit}) would be exceeded: {used} used, "
        f"{requested} more asked. Try again in {retry_after_seconds} s.",
        details={"quota": quota.value, "limit": limit, "used": used, "requested": requested,
                 "retry_after_seconds": retry_after_seconds},
        retry_after_seconds=retry_after_seconds,
    )


def llm_tokens(usage: Usage) -> int:
    """The tokens a usage counts against the daily model quota: input and output."""
    return usage.llm_input_tokens + usage.llm_output_tokens


@dataclass(frozen=True)
class DailyAllowance:
    """A tenant's daily spending quotas for one attempt of a stage or segment: its limits and
    what the usage ledger had charged to today when the attempt looked. The attempt's own
    spending is not in the ledger until the attempt ends, so each check adds it (`spent`)."""

    limits: QuotaLimits
    used_today: Usage
    now: datetime

    def check_llm_tokens(self, spent: Usage, requested: int) -> None:
        """Raise `LlmTokensQuotaExceeded` unless a call of `requested` tokens fits."""
        enforce(Quota.LLM_TOKENS_PER_DAY, self.limits.llm_tokens_per_day,
                llm_tokens(self.used_today) + llm_tokens(spent), requested,
                seconds_to_next_utc_day(self.now))

    def check_tts_characters(self, spent: Usage, requested: int) -> None:
        """Raise `TtsCharactersQuotaExceeded` unless `requested` characters fit."""
        enforce(Quota.TTS_CHARACTERS_PER_DAY, self.limits.tts_characters_per_day,
                self.used_today.tts_characters + spent.tts_characters, requested,
                seconds_to_next_utc_day(self.now))


# No limits: what a handler run outside the runners (a test, a benchmark) checks against.
NO_DAILY_LIMITS = DailyAllowance(QuotaLimits(), NO_USAGE, datetime(2000, 1, 1, tzinfo=UTC))
