"""Charging an attempt's spend, or an upload's bytes, to its tenant's day in the usage ledger:
the one way it is done.

Every place that charges an attempt's usage to its task (`vss.domain.tasks.charge`, a
segment's fan-in increments) calls `charge_tenant` once that write has committed, and only
then: a transaction retried after a conflict runs its change again, so a charge made inside it
could count twice. The day is the UTC day the attempt ended on, that is, now.
"""

from __future__ import annotations

import logging

from vss.deps import Deps
from vss.domain.tasks import Task
from vss.domain.usage import Usage

log = logging.getLogger(__name__)


def charge_tenant(deps: Deps, task: Task, spent: Usage) -> None:
    """Add what an attempt of `task` spent to its tenant's day in `deps.usage` (nothing for
    no spend).

    A ledger that cannot take the charge is logged, not raised: the task already keeps the
    spend, and the work cannot be redone to charge it again (a redelivered message finds the
    outcome recorded and stops), so raising would only fail work that succeeded.
    """
    if spent.is_zero:
        return
    try:
        deps.usage.charge(task.tenant_id, deps.clock(), spent)
    except Exception as exc:
        # The counters (no payload) are in the line, so the day can be corrected by hand.
        log.error("usage not charged to the tenant's day: %s: %s; %s", type(exc).__name__,
                  exc, spent.counters(), extra={"task_id": task.id, "tenant_id": task.tenant_id})


def charge_upload(deps: Deps, tenant_id: str, size: int) -> None:
    """Add an accepted upload's bytes to its tenant's day (its daily upload quota); a ledger
    that cannot take them is logged, as `charge_tenant` does: the upload was accepted."""
    try:
        deps.usage.charge_upload(tenant_id, deps.clock(), size)
    except Exception as exc:
        log.error("upload not charged to the tenant's day: %s: %s; %s bytes",
                  type(exc).__name__, exc, size, extra={"tenant_id": tenant_id})
