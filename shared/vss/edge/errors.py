"""How the edge CLI reports a failure: one line a person can act on, with the server's code
and the first JSON pointers it named; with `--json`, the server's `{code, message, details}`
on stdout as well."""

from __future__ import annotations

import json
import sys
from typing import Any

import requests

USAGE_ERROR = 2
POINTERS_SHOWN = 3


def pointers(details: Any) -> str:
    """` (/scenes/3/start_time: not a timecode; ...)` from `details.errors`, or ''."""
    errors = details.get("errors") if isinstance(details, dict) else None
    if not isinstance(errors, list) or not errors:
        return ""
    shown = [f"{e.get('pointer') or '/'}: {e.get('reason')}" for e in errors[:POINTERS_SHOWN]
             if isinstance(e, dict)]
    more = f"; {len(errors) - POINTERS_SHOWN} more" if len(errors) > POINTERS_SHOWN else ""
    return f" ({'; '.join(shown)}{more})" if shown else ""


class EdgeError(Exception):
    """The base of every failure the edge CLI raises itself: the API's answers, a task that
    ended badly, downloads, checksums, renders. `describe` is what the CLI prints."""

    def describe(self) -> tuple[str, dict[str, Any]]:
        """(the line to print, the JSON error body for `--json`)."""
        return str(self), {"error": {"message": str(self)}}


def server_error_line(error: dict[str, Any]) -> str:
    """`error 1001: message (/pointer: reason)` from the server's `{code, message, details}`."""
    code = error.get("code")
    prefix = f"error {code}: " if code is not None else ""
    return f"{prefix}{error.get('message') or 'no message'}{pointers(error.get('details'))}"


def describe_failure(exc: BaseException) -> tuple[str, dict[str, Any]]:
    """(the line to print, the JSON error body) for anything a command raised."""
    if isinstance(exc, EdgeError):
        return exc.describe()
    if isinstance(exc, requests.ConnectionError):
        url = exc.request.url if exc.request is not None else None
        url = url if isinstance(url, str) else "the API"
        return f"cannot reach {url}: is the API up? ({type(exc).__name__})", \
            {"error": {"message": str(exc)}}
    if isinstance(exc, requests.RequestException):
        return f"{type(exc).__name__}: {exc}", {"error": {"message": str(exc)}}
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}", {"error": {"message": str(exc)}}
    if isinstance(exc, ValueError | TimeoutError | OSError):
        return str(exc), {"error": {"message": str(exc)}}
    return f"{type(exc).__name__}: {exc}", {"error": {"message": str(exc)}}


def report(line: str, body: dict[str, Any], *, as_json: bool) -> int:
    print(f"vss: {' '.join(line.split())}", file=sys.stderr)
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=2, default=str))
    return USAGE_ERROR
