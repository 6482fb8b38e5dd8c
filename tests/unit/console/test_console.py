"""The operations console on fakes: access, CSRF, tenants and keys, tasks, the audit log."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.fakes import fake_deps
from tests.support.tasks import deliver_published, valid_dataset
from vss.console import create_console
from vss.console.tokens import issue_token
from vss.deps import Deps
from vss.domain import tasks as rules
from vss.domain.artifacts import EditingScript
from vss.domain.failures import TaskError
from vss.domain.results import ArtifactDigest, NarrationResult
from vss.domain.tasks import Stage, StageEventKind, Task, TaskStatus, TaskType
from vss.domain.usage import Usage
from vss.errors import Unauthenticated
from vss.service import auth, tasks
from vss.service.storage import location

SECRET = "console-test-secret"


@pytest.fixture
def deps() -> Deps:
    return fake_deps(console_secret=SECRET, storage_emulator_host="http://127.0.0.1:4443")


@pytest.fixture
def client(deps: Deps) -> FlaskClient:
    return create_console(deps).test_client()


def _csrf(client: FlaskClient, path: str = "/console/login") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, "the page has a form with a CSRF token"
    return found[1]


def _log_in(client: FlaskClient, deps: Deps, minutes: int = 10) -> None:
    token = issue_token(SECRET, deps.clock(), minutes)
    answer = client.post("/console/login", data={"token": token, "csrf_token": _csrf(client)})
    assert answer.status_code == 302


def _post(client: FlaskClient, path: str, **form: str) -> Any:
    return client.post(path, data={**form, "csrf_token": _csrf(client, "/console/tenants")})


def _task(deps: Deps, task_id: str, tenant: str = "t_a", *, minutes: int = 0,
          task_type: TaskType = TaskType.GENERATE_NARRATION) -> Task:
    task = rules.new_task(task_id=task_id, tenant_id=tenant, task_type=task_type,
                          payload={"blueprint_path": "uploads/u1/b.json"}, waiting_on=[],
                          now=deps.clock() + timedelta(minutes=minutes),
                          deadline=timedelta(hours=1))
    deps.tasks.add(task)
    return task


# Access

def test_pages_need_a_session(client: FlaskClient) -> None:
    answer = client.get("/console/tasks")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/console/login")


def test_a_valid_token_opens_a_strict_http_only_session(client: FlaskClient, deps: Deps) -> None:
    token = issue_token(SECRET, deps.clock(), 10)
    answer = client.post("/console/login", data={"token": token, "csrf_token": _csrf(client)})
    assert answer.status_code == 302
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert client.get("/console/tasks").status_code == 200


def test_the_cookie_is_secure_outside_the_local_stack() -> None:
    # No storage emulator, whatever the environment running the tests says.
    client = create_console(fake_deps(console_secret=SECRET,
                                      storage_emulator_host=None)).test_client()
    deps = client.application.extensions["vss"]
    token = issue_token(SECRET, deps.clock(), 10)
    answer = client.post("/console/login", data={"token": token, "csrf_token": _csrf(client)})
    assert "Secure" in answer.headers["Set-Cookie"]


def test_an_expired_token_is_refused(client: FlaskClient, deps: Deps) -> None:
    token = issue_token(SECRET, deps.clock() - timedelta(minutes=11), 10)
    answer = client.post("/console/login", data={"token": token, "csrf_token": _csrf(client)})
    assert answer.status_code == 401
    assert "expired" in answer.text
    assert client.get("/console/tasks").status_code == 302


def test_a_session_ends_when_its_token_would_have(client: FlaskClient, deps: Deps) -> None:
    _log_in(client, deps, minutes=5)
    deps.clock.advance(6 * 60)  # type: ignore[attr-defined]
    assert client.get("/console/tasks").status_code == 302


@pytest.mark.parametrize("token", [
    issue_token("another-secret", __import__("datetime").datetime.now(), 10),
    "vss_abcdefghijklmnopqrstuvwxyz", "",
])
def test_a_forged_token_or_an_api_key_is_refused(client: FlaskClient, token: str) -> None:
    answer = client.post("/console/login", data={"token": token, "csrf_token": _csrf(client)})
    assert answer.status_code == 401
    assert client.get("/console/tasks").status_code == 302


def test_edge_api_headers_never_open_the_console(client: FlaskClient, deps: Deps) -> None:
    creds = auth.create_tenant(deps, "Acme")
    answer = client.get("/console/tenants", headers={
        "X-Instance-ID": creds.instance_id, "X-Api-Key": creds.api_key})
    assert answer.status_code == 302


def test_without_a_secret_the_console_refuses_everything() -> None:
    client = create_console(fake_deps()).test_client()
    assert client.get("/console/login").status_code == 503


# CSRF

def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, deps: Deps) -> None:
    _log_in(client, deps)
    assert client.post("/console/tenants", data={"name": "Acme"}).status_code == 400
    assert client.post("/console/tenants",
                       data={"name": "Acme", "csrf_token": "guess"}).status_code == 400
    assert deps.tenants.list_tenants() == []
    token = issue_token(SECRET, deps.clock(), 10)
    fresh = create_console(deps).test_client()
    assert fresh.post("/console/login", data={"token": token}).status_code == 400


# Tenants and keys

def test_a_new_tenant_key_is_shown_once_and_works(client: FlaskClient, deps: Deps) -> None:
    _log_in(client, deps)
    answer = _post(client, "/console/tenants", name="Acme Studio")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    key = re.search(r"(vss_[\w-]+)", answer.text)[1]  # type: ignore[index]
    instance_id = re.search(r"<code>(i_\w+)</code>", answer.text)[1]  # type: ignore[index]
    assert auth.authenticate(deps, instance_id, key).tenant_id.startswith("t_")
    listing = client.get("/console/tenants").text
    assert "Acme Studio" in listing and instance_id in listing and key not in listing


def test_rotating_refuses_the_old_key(client: FlaskClient, deps: Deps) -> None:
    creds = auth.create_tenant(deps, "Acme")
    _log_in(client, deps)
    answer = _post(client, f"/console/instances/{creds.instance_id}/rotate")
    new_key = re.search(r"(vss_[\w-]+)", answer.text)[1]  # type: ignore[index]
    with pytest.raises(Unauthenticated):
        auth.authenticate(deps, creds.instance_id, creds.api_key)
    assert auth.authenticate(deps, creds.instance_id, new_key).id == creds.instance_id


def test_revoking_and_adding_instances(client: FlaskClient, deps: Deps) -> None:
    creds = auth.create_tenant(deps, "Acme")
    _log_in(client, deps)
    assert _post(client, f"/console/instances/{creds.instance_id}/revoke").status_code == 303
    with pytest.raises(Unauthenticated):
        auth.authenticate(deps, creds.instance_id, creds.api_key)
    assert _post(client, f"/console/tenants/{creds.tenant_id}/instances").status_code == 200
    assert len(deps.tenants.list_instances(creds.tenant_id)) == 2
    assert _post(client, "/console/tenants/t_missing/instances").status_code == 404


def test_finding_a_tenant_by_name_or_id(client: FlaskClient, deps: Deps) -> None:
    acme, globex = auth.create_tenant(deps, "Acme Films"), auth.create_tenant(deps, "Globex")
    _log_in(client, deps)
    found = client.get("/console/tenants?q=acme").text
    assert acme.tenant_id in found and globex.tenant_id not in found
    assert f'aria-label="Rotate key of instance {acme.instance_id}"' in found
    by_id = client.get(f"/console/tenants?q={globex.tenant_id}").text
    assert globex.tenant_id in by_id and acme.tenant_id not in by_id
    assert "No tenant matches." in client.get("/console/tenants?q=initech").text


# Tasks

def test_the_task_list_filters_and_pages(client: FlaskClient, deps: Deps) -> None:
    for n in range(30):
        _task(deps, f"task{n:02d}", tenant="t_a" if n % 2 else "t_b", minutes=n)
    deps.tasks.update("task29", lambda t: rules.fail(
        t, TaskError(code=3004, message="bad"), deps.clock()))
    _task(deps, "dub", task_type=TaskType.GENERATE_DUBBING, minutes=40)
    _log_in(client, deps)

    first = client.get("/console/tasks").text
    ids = re.findall(r"/console/tasks/(\w+)\"", first)
    assert ids[:3] == ["dub", "task29", "task28"] and len(ids) == 25
    older = re.search(r'href="([^"]+)" rel="next"', first)[1]  # type: ignore[index]
    rest = re.findall(r"/console/tasks/(\w+)\"", client.get(older.replace("&amp;", "&")).text)
    assert rest == [f"task{n:02d}" for n in range(5, -1, -1)]

    def shown(query: str) -> list[str]:
        return re.findall(r"/console/tasks/(\w+)\"", client.get(f"/console/tasks?{query}").text)

    assert shown("status=FAILED") == ["task29"]
    assert shown("type=GENERATE_DUBBING") == ["dub"]
    assert shown("tenant=t_b&type=GENERATE_NARRATION")[:2] == ["task28", "task26"]
    tenant_page = client.get("/console/tasks?tenant=t_a").text
    next_a = re.search(r'href="([^"]+)" rel="next"', tenant_page)
    assert next_a is None or "tenant=t_a" in next_a[1]
    assert client.get("/console/tasks?status=NOPE").status_code == 400
    assert client.get("/console/tasks?page_token=unknown").status_code == 400


def test_the_task_list_filters_by_the_days_tasks_were_created(
    client: FlaskClient, deps: Deps,
) -> None:
    day = 24 * 60
    for n in range(4):  # 2026-01-01 to 2026-01-04, one at midday and one at 23:59 each
        _task(deps, f"noon{n}", minutes=n * day + 12 * 60)
        _task(deps, f"late{n}", tenant="t_b", minutes=n * day + day - 1)
    _log_in(client, deps)

    def shown(query: str) -> list[str]:
        return re.findall(r"/console/tasks/(\w+)\"", client.get(f"/console/tasks?{query}").text)

    assert shown("from=2026-01-02&to=2026-01-03") == ["late2", "noon2", "late1", "noon1"]
    assert shown("from=2026-01-04") == ["late3", "noon3"]
    assert shown("to=2026-01-01") == ["late0", "noon0"]
    assert shown("from=2026-01-02&to=2026-01-02&tenant=t_b") == ["late1"]
    page = client.get("/console/tasks?from=2026-01-02").text
    assert 'value="2026-01-02"' in page  # the form keeps the filter
    assert client.get("/console/tasks?from=yesterday").status_code == 400
    assert client.get("/console/tasks?from=2026-01-03&to=2026-01-02").status_code == 400


def test_a_task_page_shows_errors_artifacts_and_stages(client: FlaskClient, deps: Deps) -> None:
    _task(deps, "t1")
    artifact = ArtifactDigest(path="tasks/t1/narration/script.json", sha256="a" * 64, size=12)
    error = TaskError(code=3004, message="The dataset is invalid.", details={"errors": [
        {"pointer": "/scenes/7/dialogues/0/start", "reason": "must be before end"}]})
    deps.tasks.update("t1", lambda t: rules.fail(t.model_copy(update={"results": {
        Stage.NARRATION: NarrationResult(output_file_path=artifact.path, artifacts=[artifact],
                                         snippets=1, engine="offline")}}),
        error, deps.clock()))
    _log_in(client, deps)
    page = client.get("/console/tasks/t1").text
    assert "Code 3004" in page and "/scenes/7/dialogues/0/start" in page
    assert "must be before end" in page and "narration" in page
    bucket, blob = location(deps, "t_a", artifact.path)
    assert 'href="' + deps.blobs.signed_download_url(  # the fake's deterministic URL
        bucket, blob, deps.settings.signed_url_ttl_seconds).replace("&", "&amp;") in page
    assert "Resume from the failed stage" in page
    assert client.get("/console/tasks/nope").status_code == 404


def test_a_commentary_task_page_shows_its_timeline_players_segments_and_strip(
    client: FlaskClient, deps: Deps, blueprint_bytes: bytes,
) -> None:
    dataset = valid_dataset(deps, blueprint_bytes, tenant="t_a")
    task = tasks.create_task(deps, "t_a", tasks.CreateTask(
        task_type="GENERATE_COMMENTARY", payload={"blueprint_path": dataset}))
    deliver_published(deps)
    done = deps.tasks.get(task.id)
    assert done is not None and done.status == TaskStatus.COMPLETED
    _log_in(client, deps)
    answer = client.get(f"/console/tasks/{task.id}")
    page = answer.text
    # Players stream from Cloud Storage (the emulator locally: the browser test plays one).
    assert "media-src https://storage.googleapis.com;" in answer.headers["Content-Security-Policy"]

    claimed = [e for e in done.timeline if e.kind == StageEventKind.CLAIMED]
    assert [e.stage for e in claimed] == done.stages  # one attempt each, in order
    timeline = page.split("<h2>Timeline</h2>")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>[^<]+</td><td>(\w+)</td><td>(\w+)</td>", timeline)
    assert rows == [(e.stage.value, e.kind.value) for e in done.timeline]

    wavs = [a for r in done.results.values() for a in r.artifacts if a.path.endswith(".wav")]
    assert wavs and page.count("<audio controls") == len(wavs)
    segment_rows = re.findall(r"<tr><td>(\d+)</td><td>done</td><td>1</td>\s*<td>([^<]+)</td>"
                              r"\s*<td>([\d.]+)</td>", page)
    assert len(segment_rows) == done.progress.total  # type: ignore[union-attr]
    assert all(engine.strip() for _, engine, _ in segment_rows)

    bars = re.findall(r'<rect class="(narration|key-line)" x="([\d.]+)"', page)
    script = EditingScript.model_validate_json(deps.blobs.read(*location(
        deps, "t_a", done.results[Stage.EDITING].output_file_path)))
    assert [kind for kind, _ in bars].count("narration") == len(script.editing_script)
    starts = [float(x) for _, x in bars]
    assert starts[0] == 0 and all(0 <= x < 100 for x in starts)


def test_resuming_a_failed_task(client: FlaskClient, deps: Deps) -> None:
    _task(deps, "t1")
    deps.tasks.update("t1", lambda t: rules.fail(
        t, TaskError(code=4001, message="upstream"), deps.clock()))
    _log_in(client, deps)
    answer = _post(client, "/console/tasks/t1/resume")
    assert answer.status_code == 303
    assert deps.tasks.get("t1").status == TaskStatus.RUNNING  # type: ignore[union-attr]
    assert deps.publisher.published  # type: ignore[attr-defined]
    assert _post(client, "/console/tasks/t1/resume").status_code == 409


def test_canceling_a_task(client: FlaskClient, deps: Deps) -> None:
    _task(deps, "t1")
    _log_in(client, deps)
    assert _post(client, "/console/tasks/t1/cancel").status_code == 303
    assert deps.tasks.get("t1").status == TaskStatus.CANCELED  # type: ignore[union-attr]


# Audit

def test_every_action_is_in_the_audit_log(client: FlaskClient, deps: Deps) -> None:
    _log_in(client, deps)
    created = _post(client, "/console/tenants", name="Acme").text
    instance_id = re.search(r"<code>(i_\w+)</code>", created)[1]  # type: ignore[index]
    tenant_id = re.search(r"<code>(t_\w+)</code>", created)[1]  # type: ignore[index]
    _post(client, f"/console/tenants/{tenant_id}/instances")
    _post(client, f"/console/instances/{instance_id}/rotate")
    _post(client, f"/console/instances/{instance_id}/revoke")
    _task(deps, "t1")
    _post(client, "/console/tasks/t1/cancel")
    entries = deps.audit.entries  # type: ignore[attr-defined]
    assert [e.action for e in entries] == [
        "console.login", "tenant.create", "instance.add", "key.rotate", "key.revoke",
        "task.cancel"]
    assert {e.actor for e in entries} == {"console-token"}
    assert all(e.at == deps.clock() for e in entries)
    assert not any("vss_" in str(e.model_dump()) for e in entries)  # never key material
    page = client.get("/console/audit").text
    assert "key.rotate" in page and instance_id in page and "task.cancel" in page


def test_a_tenants_quotas_are_shown_and_set_with_an_audit_entry(
        client: FlaskClient, deps: Deps) -> None:
    creds = auth.create_tenant(deps, "Acme")
    deps.usage.charge(creds.tenant_id, deps.clock(), Usage(tts_characters=1234))
    _log_in(client, deps)
    assert f"/console/tenants/{creds.tenant_id}/quotas" in client.get("/console/tenants").text
    page = client.get(f"/console/tenants/{creds.tenant_id}/quotas").text
    assert "tts_characters_per_day" in page and "1234" in page
    assert str(deps.settings.quota_running_tasks) in page
    path = f"/console/tenants/{creds.tenant_id}/quotas"
    assert client.post(path, data={"running_tasks": "3"}).status_code == 400  # no CSRF token
    answer = _post(client, path, running_tasks="3", tasks_per_hour="unlimited")
    assert answer.status_code == 303
    tenant = deps.tenants.get_tenant(creds.tenant_id)
    assert tenant is not None
    assert (tenant.quotas.running_tasks, tenant.quotas.tasks_per_hour) == (3, "unlimited")
    assert tenant.quotas.upload_bytes_per_day is None  # empty: the default
    (entry,) = [e for e in deps.audit.recent(limit=10)[0] if e.action == "tenant.quotas"]
    assert entry.target == creds.tenant_id
    assert entry.details == {"running_tasks": "3", "tasks_per_hour": "unlimited"}
    assert _post(client, path, running_tasks="-2").status_code == 400
    assert _post(client, "/console/tenants/t_missing/quotas", running_tasks="1").status_code == 404
