"""The operations console on fakes, signed in: a Flask test client whose session an admin
token opened."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from vss.console import create_console
from vss.console.tokens import issue_token
from vss.deps import Deps

SECRET = "console-test-secret"


def signed_in(deps: Deps) -> FlaskClient:
    """A client of the console on `deps` (built with `console_secret=SECRET`), signed in."""
    client = create_console(deps).test_client()
    form = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").text)
    assert form, "the login page has a form with a CSRF token"
    token = issue_token(SECRET, deps.clock(), 60)
    answer = client.post("/console/login", data={"token": token, "csrf_token": form[1]})
    assert answer.status_code == 302
    return client
