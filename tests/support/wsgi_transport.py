"""The real API app behind a `requests` session, in process: a transport adapter that hands
each request to the WSGI app (no socket), so the edge's own `EdgeClient` can be driven against
the routes on fake ports in unit tests and in-process benchmarks."""

from __future__ import annotations

from typing import Any

import requests
from flask import Flask
from requests.adapters import BaseAdapter
from werkzeug.test import Client

API = "http://api.test"


class WsgiTransport(BaseAdapter):
    """Mount on a session for `base`; every request is answered by `app`. Each call gets its
    own werkzeug client, so threads may share the transport."""

    def __init__(self, app: Flask, base: str = API) -> None:
        super().__init__()
        self.app = app
        self.base = base

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount(self.base, self)
        return session

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        body = request.body.encode() if isinstance(request.body, str) else request.body
        answer = Client(self.app).open(request.url, method=request.method or "GET",
                                       headers=dict(request.headers), data=body or b"")
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(dict(answer.headers))
        response._content = answer.get_data()
        response._content_consumed = True  # type: ignore[attr-defined]
        response.url = request.url or ""
        response.request = request
        response.reason = answer.status.partition(" ")[2]
        return response

    def close(self) -> None:
        pass
