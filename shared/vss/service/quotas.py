"""Per-tenant quotas (`vss.domain.quotas`): a tenant's limits, what it has used, and the checks
at task creation, at upload and before a stage spends.

Nothing here keeps a counter of its own, so no document is written by every request:
- running tasks and tasks per hour are counted from the task documents (aggregation queries
  of the task repository);
- the daily quotas read the tenant's day in the sharded usage ledger (`deps.usage`), which the
  attempts charge as they end (`vss.service.spending`) and uploads as they are accepted.
A check and the write that follows it are not one transaction: requests racing past the same
check can each be admitted, so a limit can be overshot by at most the requests in flight.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vss.config import Settings
from vss.deps import Deps
from vss.domain.quotas import (
    HOUR,
    RUNNING_TASKS_RETRY_SECONDS,
    DailyAllowance,
    Quota,
    QuotaLimits,
    QuotaOverrides,
    effective_limits,
    enforce,
    fits,
    llm_tokens,
    seconds_to_next_utc_day,
    seconds_until_hour_frees,
)
from vss.domain.usage import NO_USAGE, TenantDay, utc_day
from vss.errors import NotFound

log = logging.getLogger(__name__)


def default_limits(settings: Settings) -> QuotaLimits:
    return QuotaLimits(
        running_tasks=settings.quota_running_tasks,
        tasks_per_hour=settings.quota_tasks_per_hour,
        upload_bytes_per_day=settings.quota_upload_bytes_per_day,
        tts_characters_per_day=settings.quota_tts_characters_per_day,
        llm_tokens_per_day=settings.quota_llm_tokens_per_day,
    )


def overrides_of(deps: Deps, tenant_id: str) -> QuotaOverrides:
    tenant = deps.tenants.get_tenant(tenant_id)
    return tenant.quotas if tenant is not None else QuotaOverrides()


def limits_for(deps: Deps, tenant_id: str) -> QuotaLimits:
    """The limits that apply to the tenant: its overrides, else the settings' defaults."""
    return effective_limits(default_limits(deps.settings), overrides_of(deps, tenant_id))


def today(deps: Deps, tenant_id: str) -> TenantDay:
    """What the usage ledger has charged to the tenant's current UTC day."""
    day = utc_day(deps.clock())
    found = deps.usage.days(day, day, tenant_id)
    return found[0] if found else TenantDay(tenant_id=tenant_id, day=day, usage=NO_USAGE)


def check_task_creation(deps: Deps, tenant_id: str) -> None:
    """Raise the quota's error (429) when the tenant may not create a task now: too many
    running, too many created in the last hour, or today's speech characters or model tokens
    already at their limit (the task could not run). A check whose limit is unlimited reads
    nothing."""
    limits = limits_for(deps, tenant_id)
    now = deps.clock()
    if limits.running_tasks is not None:
        enforce(Quota.RUNNING_TASKS, limits.running_tasks, deps.tasks.count_active(tenant_id),
                1, RUNNING_TASKS_RETRY_SECONDS)
    if limits.tasks_per_hour is not None:
        hour_ago = now - HOUR  # a task created exactly then has left the hour
        created = deps.tasks.count_created_after(tenant_id, hour_ago)
        if not fits(limits.tasks_per_hour, created, 1):
            oldest = deps.tasks.oldest_created_after(tenant_id, hour_ago)
            enforce(Quota.TASKS_PER_HOUR, limits.tasks_per_hour, created, 1,
                    seconds_until_hour_frees(oldest, now))
    if limits.tts_characters_per_day is None and limits.llm_tokens_per_day is None:
        return
    used = today(deps, tenant_id).usage
    # Refused once the day's use is at the limit: the task's first character or token
    # would pass it.
    enforce(Quota.TTS_CHARACTERS_PER_DAY, limits.tts_characters_per_day, used.tts_characters,
            1, seconds_to_next_utc_day(now))
    enforce(Quota.LLM_TOKENS_PER_DAY, limits.llm_tokens_per_day, llm_tokens(used), 1,
            seconds_to_next_utc_day(now))


def check_upload(deps: Deps, tenant_id: str, size: int) -> None:
    """Raise `UploadBytesQuotaExceeded` (429) when `size` more bytes do not fit in today's."""
    limit = limits_for(deps, tenant_id).upload_bytes_per_day
    if limit is None:
        return
    enforce(Quota.UPLOAD_BYTES_PER_DAY, limit, today(deps, tenant_id).upload_bytes, size,
            seconds_to_next_utc_day(deps.clock()))


def daily_allowance(deps: Deps, tenant_id: str) -> DailyAllowance:
    """The tenant's daily spending quotas as an attempt checks them before it spends."""
    return DailyAllowance(limits_for(deps, tenant_id), today(deps, tenant_id).usage,
                          deps.clock())


def set_quotas(deps: Deps, tenant_id: str, changes: dict[Quota, int | str | None]
               ) -> QuotaLimits:
    """Change the tenant's overrides (a number, `unlimited`, or None for the default); the
    limits that now apply. `NotFound` for an unknown tenant."""
    tenant = deps.tenants.update_quotas(tenant_id, lambda current: current.changed(changes))
    log.info("quotas changed: %s", {q.value: v for q, v in changes.items()},
             extra={"tenant_id": tenant_id})
    return effective_limits(default_limits(deps.settings), tenant.quotas)


@dataclass(frozen=True)
class QuotaReport:
    """A tenant's quotas as an operator reads them: limits, overrides and current use."""

    tenant_id: str
    limits: QuotaLimits
    overrides: QuotaOverrides
    used: dict[Quota, int]

    def as_json(self) -> dict[str, object]:
        return {"tenant_id": self.tenant_id, "limits": self.limits.model_dump(),
                "overrides": self.overrides.model_dump(exclude_none=True),
                "used": {quota.value: value for quota, value in self.used.items()}}


def report(deps: Deps, tenant_id: str) -> QuotaReport:
    """The tenant's limits and what it uses of each now (running tasks, tasks in the last
    hour, today's uploads, speech characters and tokens). `NotFound` for an unknown tenant."""
    tenant = deps.tenants.get_tenant(tenant_id)
    if tenant is None:
        raise NotFound(f"Tenant {tenant_id} does not exist.", details={"tenant_id": tenant_id})
    day = today(deps, tenant_id)
    hour_ago = deps.clock() - HOUR
    return QuotaReport(
        tenant_id=tenant_id,
        limits=effective_limits(default_limits(deps.settings), tenant.quotas),
        overrides=tenant.quotas,
        used={Quota.RUNNING_TASKS: deps.tasks.count_active(tenant_id),
              Quota.TASKS_PER_HOUR: deps.tasks.count_created_after(tenant_id, hour_ago),
              Quota.UPLOAD_BYTES_PER_DAY: day.upload_bytes,
              Quota.TTS_CHARACTERS_PER_DAY: day.usage.tts_characters,
              Quota.LLM_TOKENS_PER_DAY: llm_tokens(day.usage)},
    )
