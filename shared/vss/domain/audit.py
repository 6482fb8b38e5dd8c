"""An entry of the audit log: who changed what, and when (the operations console writes one
for every action it takes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    actor: str = Field(description="Who: the IAP identity, or `console-token` locally.")
    action: str = Field(description="What, e.g. `tenant.create`, `task.resume`.")
    target: str = Field(description="The id of the tenant, instance or task acted on.")
    at: datetime
    details: dict[str, str] = Field(default_factory=dict, description="Never key material.")
