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


def _server_error(error: dict[str, Any]) -> str:
    code = error.get("code")
    prefix = f"error {code}: " if code is not None else ""
    return f"{prefix}{error.get('message') or 'no message'}{pointers(error.get('details'))}"


def describe_failure(exc: BaseException) -> tuple[str, dict[str, Any]]:
    """(the line to print, the JSON error body) for anything a command raised."""
    from vss.edge.client import ApiError
    from vss.edge.run import TaskEnded, failed_stage

    if isinstance(exc, ApiError):
        return f"{_server_error(exc.body)} (HTTP {exc.status})", {"error": exc.body}
    if isinstance(exc, TaskEnded):
        view = exc.view
        error = view.get("error") or {}
        if view.get("status") == "CANCELED":
            line = f"task {view.get('id')} was canceled"
        else:
            line = (f"task {view.get('id')} FAILED at {failed_stage(view)}: "
                    f"{_server_error(error)}")
        return line, {"error": error or None, "task": view}
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
    from vss.edge.follow import FollowTimeout
    from vss.edge.run import DownloadsFailed

    if isinstance(exc, FollowTimeout | DownloadsFailed):
        return str(exc), {"error": {"message": str(exc)}}
    return f"{type(exc).__name__}: {exc}", {"error": {"message": str(exc)}}


def report(line: str, body: dict[str, Any], *, as_json: bool) -> int:
    print(f"vss: {' '.join(line.split())}", file=sys.stderr)
    if as_json:
        print(json.dumps(body, ensure_ascii=False, indent=2, default=str))
    return USAGE_ERROR
