"""The one error tree of the project.

    VssError                     code, message, details; `http_status` for the API
    ├── RetryableError           timeouts, 429/5xx upstream, contention: retry the step
    └── PermanentError           retrying cannot help: record it and stop
        ├── BadRequest           1001 malformed or invalid request
        ├── Unauthenticated      1002 missing/unknown credentials
        ├── NotFound             1004 (also used for another tenant's resources)
        ├── PayloadTooLarge      1005
        ├── UnsupportedMedia     1006
        ├── PathTraversal        1007
        ├── UnknownTaskType      2001
        ├── TaskNotReady         2003 (HTTP 425)
        ├── InvalidTransition    2005 (HTTP 409)
        ├── DeadlineExceeded     2004
        ├── LlmError / TtsError  3002 / 3003
        └── PayloadInvalid       3004 invalid dataset or task payload

Codes follow the seed's families: 1xxx request/auth, 2xxx task, 3xxx AI, 4xxx third party.
"""

from __future__ import annotations

from typing import Any, ClassVar


class VssError(Exception):
    code: ClassVar[int] = 4000
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Any = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else {}
        if code is not None:
            self.code = code  # type: ignore[misc]

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class RetryableError(VssError):
    """Transient: the step may succeed if tried again (after backoff)."""

    code = 4001
    http_status = 503


class RateLimited(RetryableError):
    code = 4002
    http_status = 429


class PermanentError(VssError):
    """Retrying cannot help; the task (or request) fails with this cause."""

    code = 4000
    http_status = 500


class BadRequest(PermanentError):
    code = 1001
    http_status = 400


class Unauthenticated(PermanentError):
    code = 1002
    http_status = 401


class NotFound(PermanentError):
    code = 1004
    http_status = 404


class PayloadTooLarge(PermanentError):
    code = 1005
    http_status = 413


class UnsupportedMedia(PermanentError):
    code = 1006
    http_status = 415


class PathTraversal(PermanentError):
    code = 1007
    http_status = 400


class UnknownTaskType(PermanentError):
    code = 2001
    http_status = 400


class TaskNotReady(PermanentError):
    code = 2003
    http_status = 425


class DeadlineExceeded(PermanentError):
    code = 2004
    http_status = 504


class InvalidTransition(PermanentError):
    code = 2005
    http_status = 409


class LlmError(PermanentError):
    code = 3002
    http_status = 502


class TtsError(PermanentError):
    code = 3003
    http_status = 502


class PayloadInvalid(PermanentError):
    code = 3004
    http_status = 422


class FileIoError(RetryableError):
    code = 4003
