"""What the entry points' shared helpers do with the framework's logs."""

from __future__ import annotations

import logging

from tests.support.logs import captured
from vss.errors import RetryableError, StageBusy
from vss.events import RetriesAreWarnings


def _framework_logs(error: Exception) -> list[dict[str, object]]:
    """What the functions framework logs when a function raises `error` (Flask logs it with
    `logger.exception`), through a handler with the filter the entry points install."""
    with captured() as lines:
        handler = logging.getLogger().handlers[-1]
        handler.addFilter(RetriesAreWarnings())
        try:
            raise error
        except Exception:
            logging.getLogger("functions_framework").exception("Exception on / [POST]")
    return lines


def test_a_try_later_outcome_is_one_warning_without_a_traceback():
    for error in (StageBusy("The stage is running elsewhere."), RetryableError("upstream 503")):
        (line,) = _framework_logs(error)
        assert line["severity"] == "WARNING" and "stack_trace" not in line
        assert line["message"] == f"sent back for a later delivery: {error.args[0]}"


def test_an_unexpected_exception_stays_an_error_with_its_traceback():
    (line,) = _framework_logs(ValueError("a bug"))
    assert line["severity"] == "ERROR" and "ValueError: a bug" in str(line["stack_trace"])
