"""The one error tree of the project, and the one function that turns an error into a body.

    VssError                     code, message, details; `http_status` for the API
    ├── RetryableError      4001 timeouts, 429/5xx upstream, contention: retry the step
    │   ├── RateLimited     4002 (HTTP 429)
    │   ├── FileIoError     4003
    │   ├── UnexpectedError 4000 an exception nobody anticipated: retried, then dead-lettered
    │   └── StageBusy       2006 another worker holds a live lease on the stage
    └── PermanentError      4000 retrying cannot help: record it and stop
        ├── BadRequest           1001 malformed or invalid request
        ├── Unauthenticated      1002 missing/unknown credentials
        ├── NotFound             1004 (also used for another tenant's resources)
        ├── PayloadTooLarge      1005
        ├── UnsupportedMedia     1006
        ├── PathTraversal        1007
        ├── MethodNotAllowed     1008
        ├── IdempotencyKeyReused 1009 (HTTP 422) the key came with another body
        ├── QuotaExceeded   1101-1105 (HTTP 429 + Retry-After) a tenant's quota, one code each
        ├── UnknownTaskType      2001
        ├── TaskNotReady         2003 (HTTP 425)
        ├── DeadlineExceeded     2004
        ├── InvalidTransition    2005 (HTTP 409)
        ├── LlmError / TtsError  3002 / 3003
        ├── PayloadInvalid       3004 invalid dataset or task payload
        └── StoryIndexInvalid    3005 a story index artifact this code cannot read

Codes follow the seed's families: 1xxx request/auth, 2xxx task, 3xxx AI, 4xxx third party.
No other module writes a numeric code: they name a class here.
"""

from __future__ import annotations

from typing import Any, ClassVar


class VssError(Exception):
    code: ClassVar[int] = 4000
    http_status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, details: Any = None, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else {}
        if code is not None:
            self.code = code  # type: ignore[misc]

    def headers(self) -> dict[str, str]:
        """HTTP headers an answer with this error carries besides its body."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details)


def error_body(code: int, message: str, details: Any = None) -> dict[str, Any]:
    """`{code, message, details}`: every error the API, the functions and the tasks answer."""
    return {"code": code, "message": message, "details": details if details is not None else {}}


class RetryableError(VssError):
    """Transient: the step may succeed if tried again (after backoff)."""

    code = 4001
    http_status = 503
    retryable = True


class RateLimited(RetryableError):
    code = 4002
    http_status = 429


class FileIoError(RetryableError):
    code = 4003


class UnexpectedError(RetryableError):
    """An exception no code path anticipated; retried in case it was transient."""

    code = 4000
    http_status = 500


class StageBusy(RetryableError):
    """Another worker holds a live lease on this stage; the message should come back later."""

    code = 2006


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


class MethodNotAllowed(PermanentError):
    code = 1008
    http_status = 405


class IdempotencyKeyReused(PermanentError):
    """An `Idempotency-Key` the tenant already sent, within its lifetime, with another body:
    answering with the first request's task would hide the difference, creating one would
    break the key's promise."""

    code = 1009
    http_status = 422


class QuotaExceeded(PermanentError):
    """A tenant's quota (`vss.domain.quotas`) would be exceeded: the API answers 429 with
    `Retry-After`, and a stage about to spend past a daily quota fails the task with it
    (permanent: retrying the stage cannot help before the day ends). `details` is
    `{quota, limit, used, requested, retry_after_seconds}`. One subclass, and code, per quota."""

    code = 1100
    http_status = 429
    quota: ClassVar[str] = ""

    def __init__(self, message: str, *, details: Any = None, retry_after_seconds: int) -> None:
        super().__init__(message, details=details)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class RunningTasksQuotaExceeded(QuotaExceeded):
    code = 1101
    quota = "running_tasks"


class TasksPerHourQuotaExceeded(QuotaExceeded):
    code = 1102
    quota = "tasks_per_hour"


class UploadBytesQuotaExceeded(QuotaExceeded):
    code = 1103
    quota = "upload_bytes_per_day"


class TtsCharactersQuotaExceeded(QuotaExceeded):
    code = 1104
    quota = "tts_characters_per_day"


class LlmTokensQuotaExceeded(QuotaExceeded):
    code = 1105
    quota = "llm_tokens_per_day"


# The error of each quota, by the quota's name (`vss.domain.quotas.Quota`).
QUOTA_ERRORS: dict[str, type[QuotaExceeded]] = {
    cls.quota: cls for cls in (RunningTasksQuotaExceeded, TasksPerHourQuotaExceeded,
                               UploadBytesQuotaExceeded, TtsCharactersQuotaExceeded,
                               LlmTokensQuotaExceeded)
}


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


class StoryIndexInvalid(PermanentError):
    """A story index artifact that is corrupt, of another format or of a version this code
    does not read: rebuild it from its dataset."""

    code = 3005


_BY_HTTP_STATUS: dict[int, type[VssError]] = {
    cls.http_status: cls
    for cls in (BadRequest, Unauthenticated, NotFound, MethodNotAllowed, PayloadTooLarge,
                UnsupportedMedia)
}


def for_http_status(status: int, message: str, details: Any = None) -> VssError:
    """The error a bare HTTP status stands for (routing errors raised by the web framework)."""
    cls = _BY_HTTP_STATUS.get(status)
    if cls is None:
        return BadRequest(message, details=details) if 400 <= status < 500 else \
            UnexpectedError(message, details=details)
    return cls(message, details=details)
