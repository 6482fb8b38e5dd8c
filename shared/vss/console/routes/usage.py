"""Usage and cost per tenant per UTC day, from the usage ledger: the last N days as tables with
totals and a chart of the cost per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import Blueprint, render_template, request

from vss.app_deps import app_deps
from vss.console.charts import BarChart, bar_chart
from vss.domain.ids import is_valid_id
from vss.domain.usage import NO_USAGE, TenantDay, Usage, utc_day
from vss.errors import BadRequest

bp = Blueprint("usage", __name__)
DEFAULT_DAYS, MAX_DAYS = 14, 90


@dataclass(frozen=True)
class UsageReport:
    since: date
    until: date
    rows: list[TenantDay]  # newest day first, then by tenant
    tenants: list[tuple[str, Usage]]  # each tenant's total, costliest first
    per_day: list[tuple[date, Usage]]  # every day of the range, oldest first (zero if idle)
    total: Usage

    @property
    def peak(self) -> tuple[date, Usage] | None:
        """The costliest day (the earliest of equals), None if nothing cost anything."""
        costliest = max(self.per_day, key=lambda day: day[1].cost_usd, default=None)
        return costliest if costliest and costliest[1].cost_usd > 0 else None

    @classmethod
    def of(cls, found: list[TenantDay], since: date, until: date) -> UsageReport:
        tenants: dict[str, Usage] = {}
        days = {since + timedelta(days=n): NO_USAGE for n in range((until - since).days + 1)}
        for row in found:
            tenants[row.tenant_id] = tenants.get(row.tenant_id, NO_USAGE) + row.usage
            days[row.day] += row.usage
        return cls(
            since=since, until=until,
            rows=sorted(found, key=lambda r: (-r.day.toordinal(), r.tenant_id)),
            tenants=sorted(tenants.items(), key=lambda item: (-item[1].cost_usd, item[0])),
            per_day=sorted(days.items()),
            total=sum((row.usage for row in found), NO_USAGE),
        )


def money(value: float) -> str:
    return f"${value:,.4f}"  # a segment's speech costs fractions of a cent


@bp.get("/usage")
def index() -> str:
    days = _days()
    tenant = request.args.get("tenant") or None
    if tenant is not None and not is_valid_id(tenant):
        raise BadRequest("Tenant ids are ids of letters, digits, _ and -.")
    deps = app_deps()
    until = utc_day(deps.clock())
    since = until - timedelta(days=days - 1)
    report = UsageReport.of(deps.usage.days(since, until, tenant), since, until)
    names = {t.id: t.name for t in deps.tenants.list_tenants()}
    chart: BarChart = bar_chart(
        [(day.isoformat(), usage.cost_usd) for day, usage in report.per_day], money)
    return render_template("usage.html", title="Usage", report=report, chart=chart,
                           names=names, days=days, tenant=tenant, money=money,
                           max_days=MAX_DAYS)


def _days() -> int:
    """`?days=`: whole days from 1 to MAX_DAYS, DEFAULT_DAYS when absent."""
    text = request.args.get("days") or ""
    if not text:
        return DEFAULT_DAYS
    if not (len(text) <= 3 and text.isascii() and text.isdigit()) \
            or not 1 <= int(text) <= MAX_DAYS:
        raise BadRequest(f"days must be a whole number from 1 to {MAX_DAYS}.")
    return int(text)
