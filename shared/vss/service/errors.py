"""An error as a task records it (the tenant reads it) and the logs show it."""

from __future__ import annotations

from vss.config import Settings
from vss.domain.tasks import TaskError
from vss.errors import VssError
from vss.redaction import redact, redact_json


def safe_error(settings: Settings, error: VssError) -> TaskError:
    """Any text from a third party or an exception may carry a key: secrets are masked."""
    recorded = TaskError.of(error)
    secrets = settings.secret_values()
    return TaskError(code=recorded.code, message=redact(recorded.message, secrets),
                     details=redact_json(recorded.details, secrets))
