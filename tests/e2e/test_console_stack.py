"""The operations console on the local stack, over HTTP as a browser without JavaScript uses it
(a `requests` session keeps its cookie): a token from `vss admin console-token` opens a session
at the login page; a tenant created in the console can use the API at once; a task an edge
created is found in the task list, and its page shows its error and signed links to the files
its finished stages published; a FAILED task is resumed from its page, and the audit log says
who did it. The console's entries of the permission ledger come from this module."""

from __future__ import annotations

import hashlib
import html
import re
import uuid
from typing import Any

import pytest
import requests

from tests.support.paths import BLUEPRINT
from tests.support.stack import console_token, console_url, new_tenant, stack_env, wait_until
from vss.edge.client import EdgeClient
from vss.errors import PayloadInvalid

pytestmark = pytest.mark.integration

TIMEOUT = 30  # seconds per request
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def _csrf(page: requests.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, f"no form with a CSRF token on {page.url}"
    return html.unescape(found.group(1))


def _shown(page: str, label: str) -> str:
    """The value of a `<dt>label...</dt><dd><code>value</code></dd>` row of the key page."""
    found = re.search(rf"<dt>{label}.*?</dt><dd><code>([^<]+)</code></dd>", page)
    assert found, f"the page shows no {label}"
    return html.unescape(found.group(1))


@pytest.fixture(scope="module")
def base() -> str:
    return console_url()


@pytest.fixture(scope="module")
def operator(base: str) -> requests.Session:
    """A session the login page opened with a fresh console token."""
    session = requests.Session()
    form = session.get(f"{base}/login", timeout=TIMEOUT)
    assert form.status_code == 200
    answer = session.post(f"{base}/login", data={
        "token": console_token(minutes=15), "csrf_token": _csrf(form), "next": ""},
        allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 302, answer.text
    assert answer.headers["Location"].endswith("/console/tenants")
    return session


@pytest.fixture(scope="module")
def failed_task() -> tuple[EdgeClient, dict[str, str], dict[str, Any]]:
    """A commentary task an edge created whose editing stage fails (its clip bounds contradict
    each other) after narration and dubbing finished and published their files."""
    edge, creds = new_tenant()
    dataset = edge.upload(BLUEPRINT)["relative_path"]
    task = edge.create_task("GENERATE_COMMENTARY", {
        "blueprint_path": dataset,
        "narration": {"lang": "zh", "control_params": {"target_duration_minutes": 0.5}},
        "editing": {"min_clip_seconds": 5, "max_clip_seconds": 2},
    })
    done = edge.wait(task["id"], timeout=360)
    assert done["status"] == "FAILED", done
    assert done["error"]["code"] == PayloadInvalid.code
    assert {"narration", "dubbing"} <= set(done["results"])
    return edge, creds, done


def test_the_login_page_is_open_and_nothing_else_is(base: str):
    anonymous = requests.Session()
    assert anonymous.get(f"{base}/login", timeout=TIMEOUT).status_code == 200
    tenants = anonymous.get(f"{base}/tenants", allow_redirects=False, timeout=TIMEOUT)
    assert tenants.status_code == 302 and "/console/login" in tenants.headers["Location"]
    form = anonymous.get(f"{base}/login", timeout=TIMEOUT)
    refused = anonymous.post(f"{base}/login", data={
        "token": "not-a-console-token", "csrf_token": _csrf(form), "next": ""},
        allow_redirects=False, timeout=TIMEOUT)
    assert refused.status_code == 401
    assert anonymous.get(f"{base}/tenants", allow_redirects=False,
                         timeout=TIMEOUT).status_code == 302


def test_a_post_without_the_csrf_token_is_refused(operator: requests.Session, base: str):
    answer = operator.post(f"{base}/tenants", data={"name": "no-csrf"}, timeout=TIMEOUT)
    assert answer.status_code == 400


def test_a_tenant_created_in_the_console_uses_the_api_at_once(
    operator: requests.Session, base: str,
):
    page = operator.get(f"{base}/tenants", timeout=TIMEOUT)
    assert page.status_code == 200
    name = f"console-{uuid.uuid4().hex[:8]}"
    created = operator.post(f"{base}/tenants", data={"name": name, "csrf_token": _csrf(page)},
                            timeout=TIMEOUT)
    assert created.status_code == 200, created.text
    tenant_id = _shown(created.text, "Tenant")
    instance_id, api_key = _shown(created.text, "Instance"), _shown(created.text, "API key")

    edge = EdgeClient(stack_env()["VSS_API_URL"], instance_id, api_key)
    tasks = edge.session.get(f"{edge.base}/tasks/", timeout=TIMEOUT)
    assert tasks.status_code == 200 and tasks.json()["results"] == []
    listed = operator.get(f"{base}/tenants", timeout=TIMEOUT).text
    assert html.escape(name) in listed and tenant_id in listed and instance_id in listed
    assert api_key not in listed  # shown once, on the page that created it


# The task's three stages, then editing once more: more than the suite's default 300 s per test
# on a slow machine.
@pytest.mark.timeout(600)
def test_an_edge_task_is_found_opened_and_resumed_when_failed(
    operator: requests.Session, base: str,
    failed_task: tuple[EdgeClient, dict[str, str], dict[str, Any]],
):
    edge, creds, task = failed_task
    task_id = task["id"]

    listing = operator.get(f"{base}/tasks", params={
        "tenant": creds["tenant_id"], "status": "FAILED", "type": "GENERATE_COMMENTARY"},
        timeout=TIMEOUT)
    assert listing.status_code == 200
    assert f'href="/console/tasks/{task_id}"' in listing.text

    page = operator.get(f"{base}/tasks/{task_id}", timeout=TIMEOUT)
    assert page.status_code == 200
    assert "FAILED" in page.text and f"Code {PayloadInvalid.code}" in page.text
    assert "max_clip_seconds" in page.text
    # The finished stages' files, each behind a signed link that serves exactly its bytes.
    artifact = task["results"]["narration"]["artifacts"][0]
    link = re.search(rf'<a href="([^"]+)">{re.escape(artifact["path"])}</a>', page.text)
    assert link, "no link to the narration's file"
    download = requests.get(html.unescape(link.group(1)), timeout=TIMEOUT)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == artifact["sha256"]

    resumed = operator.post(f"{base}/tasks/{task_id}/resume", data={"csrf_token": _csrf(page)},
                            allow_redirects=False, timeout=TIMEOUT)
    assert resumed.status_code == 303, resumed.text
    assert resumed.headers["Location"].endswith(f"/console/tasks/{task_id}")

    # The same contradiction fails editing again; narration and dubbing are not redone.
    again = wait_until(lambda: (t := edge.get_task(task_id))["status"] == "FAILED"
                       and len(t["errors"]) == 2 and t, timeout=180)
    for stage in ("narration", "dubbing"):
        assert again["results"][stage] == task["results"][stage], stage

    audit = operator.get(f"{base}/audit", timeout=TIMEOUT)
    assert audit.status_code == 200
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", audit.text, flags=re.DOTALL)
            if "task.resume" in r and task_id in r]
    assert len(rows) == 1, "the resume is not in the audit log, or twice"
    assert "console-token" in rows[0] and "status=RUNNING" in rows[0]
    assert f"tenant_id={creds['tenant_id']}" in rows[0]
