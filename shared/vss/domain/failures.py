"""An error as a task records it (`error`, `errors`) and its items record their last one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from vss.errors import VssError


class TaskError(BaseModel):
    code: int
    message: str
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, error: VssError) -> TaskError:
        details = error.details if isinstance(error.details, dict) else {"info": error.details}
        return cls(code=error.code, message=error.message, details=details)
