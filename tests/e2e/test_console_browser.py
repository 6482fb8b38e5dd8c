"""The operations console of the local stack in headless Chromium, as an operator uses it: log
in with a console token, create a tenant, find the task its edge ran, play a dubbing WAV,
resume a failed task, rotate a key (the API then refuses the old one), read the usage,
failures and health pages; every page passes
axe-core's WCAG 2.1 A/AA rules and a keyboard walk.

With `VSS_SCREENSHOTS_DIR` set (`make screenshots`), each main page is saved there as a PNG:
the README's pictures come from this test, never drawn by hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from emulators.config import load_config
from tests.support.accessibility import axe_violations, keyboard_reaches_every_control
from tests.support.browser import chromium, full_page_screenshot, page_left
from tests.support.paths import BLUEPRINT, ROOT
from tests.support.stack import stack_env, stack_settings, wait_until
from vss.bootstrap import ports_alone
from vss.domain import tasks as rules
from vss.domain.files import FileStatus
from vss.domain.tasks import TaskError, TaskStatus
from vss.edge.client import ApiError, EdgeClient

pytestmark = pytest.mark.integration

PLAY = """
const done = arguments[arguments.length - 1];
const audio = document.querySelector("audio");
audio.muted = true;
audio.play().then(() => setTimeout(() => done({time: audio.currentTime, error: audio.error,
    duration: audio.duration}), 600))
  .catch((e) => done({failed: String(e)}));
"""


@pytest.fixture(scope="module")
def console() -> str:
    stack_env()
    return load_config().url("console") + "/console"


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("VSS_SCREENSHOTS_DIR")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("console-screenshots")


def _console_token() -> str:
    printed = subprocess.run([str(Path(sys.executable).parent / "vss"), "admin", "console-token"],
                             capture_output=True, text=True, check=True, cwd=ROOT,
                             env={**os.environ, **stack_env()})
    return printed.stdout.strip()


def _submit(browser: webdriver.Chrome, form_action: str) -> None:
    """Press the form's button and wait for the page it leads to."""
    _press(browser, browser.find_element(By.CSS_SELECTOR, f'form[action$="{form_action}"] button'))


def _press(browser: webdriver.Chrome, button: WebElement) -> None:
    page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 30).until(page_left(page))


def _shown(browser: webdriver.Chrome, label: str) -> str:
    """The value a key page shows after `label` (its <dt>)."""
    term = browser.find_element(By.XPATH, f"//dt[starts-with(normalize-space(), '{label}')]")
    return term.find_element(By.XPATH, "following-sibling::dd[1]").text.strip()


def _check_page(browser: webdriver.Chrome, shots: Path, name: str, *,
                keyboard: bool = True) -> None:
    assert axe_violations(browser) == [], f"{name}: accessibility violations"
    if keyboard:
        assert keyboard_reaches_every_control(browser) == [], f"{name}: keyboard"
    full_page_screenshot(browser, shots / f"console-{name}.png")
    assert (shots / f"console-{name}.png").stat().st_size > 10_000


def _failed_waiting_on_its_upload(edge: EdgeClient) -> tuple[str, dict[str, Any]]:
    """A narration task whose dataset upload had not landed when its deadline failed it (the
    way the deadline check fails it): the task id and the signed upload still to do."""
    signed = edge.sign_upload("blueprint.json", "application/json", BLUEPRINT.stat().st_size)
    task = edge.create_task("GENERATE_NARRATION", {
        "blueprint_path": signed["relative_path"],
        "service_params": {"control_params": {"target_duration_minutes": 1}}})
    deps = ports_alone(stack_settings())
    deps.tasks.update(task["id"], lambda t: t if t.is_terminal else rules.fail(t, TaskError(
        code=2004, message="The task did not finish before its deadline."), deps.clock()))
    return task["id"], signed


def test_an_operator_runs_the_stack_from_the_console(browser: webdriver.Chrome, console: str,
                                                     shots: Path):
    api_url = stack_env()["VSS_API_URL"]

    # A page needs a session: the login page takes a console token, then goes on.
    browser.get(f"{console}/tasks")
    assert "/console/login" in browser.current_url
    _check_page(browser, shots, "login")
    browser.find_element(By.ID, "token").send_keys(_console_token())
    _submit(browser, "/console/login")
    assert browser.current_url.endswith("/console/tasks")

    # A new tenant: its key is shown once, and the API takes it.
    browser.get(f"{console}/tenants")
    name = f"Console journey {os.getpid()}"
    browser.find_element(By.ID, "name").send_keys(name)
    _submit(browser, "/console/tenants")
    tenant, instance = _shown(browser, "Tenant"), _shown(browser, "Instance")
    key = _shown(browser, "API key")
    assert "only once" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    edge = EdgeClient(api_url, instance, key)

    # Its edge runs the whole job; the operator finds the task and opens it.
    dataset = edge.upload(BLUEPRINT)["relative_path"]
    task_id = edge.create_task("GENERATE_COMMENTARY", {
        "blueprint_path": dataset, "narration": {"control_params": {
            "target_duration_minutes": 1}}})["id"]
    assert edge.wait(task_id, timeout=300)["status"] == "COMPLETED"
    browser.get(f"{console}/tasks?tenant={tenant}")
    _check_page(browser, shots, "tasks")
    _press(browser, browser.find_element(By.CSS_SELECTOR, f'a[href$="/tasks/{task_id}"]'))
    assert browser.title.startswith(f"Task {task_id}")
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "COMPLETED" in page and "claimed" in page and "finished" in page
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.strip rect.narration")) >= 1
    segments = browser.find_elements(By.XPATH, "//h2[.='Segments']/following::table[1]/tbody/tr")
    assert segments and all(" done " in f" {row.text} " for row in segments)
    _check_page(browser, shots, "task")

    # A dubbing WAV plays from its signed URL (the page's CSP admits the storage origin).
    played = browser.execute_async_script(PLAY)
    assert "failed" not in played, played
    assert played["error"] is None and played["time"] > 0.2 and played["duration"] > 1
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []

    # A task failed by its deadline while its upload was missing: the upload lands, the
    # operator resumes it, and it completes.
    failed_id, signed = _failed_waiting_on_its_upload(edge)
    put = requests.put(signed["upload_url"], data=BLUEPRINT.read_bytes(),
                       headers=signed["headers"], timeout=60)
    assert put.status_code < 300, put.text
    deps = ports_alone(stack_settings())
    file_id = signed["relative_path"].split("/")[1]
    wait_until(lambda: (r := deps.files.get(file_id)) and r.status == FileStatus.VALID,
               timeout=60)
    browser.get(f"{console}/tasks/{failed_id}")
    assert "Code 2004" in browser.find_element(By.TAG_NAME, "main").text
    _check_page(browser, shots, "failed-task")
    _submit(browser, f"/tasks/{failed_id}/resume")
    assert edge.wait(failed_id, timeout=180)["status"] == "COMPLETED"
    browser.refresh()
    assert "resumed" in browser.find_element(By.TAG_NAME, "main").text

    # Rotating the instance's key: the new key works, the old one is refused.
    browser.get(f"{console}/tenants?q={tenant}")
    _check_page(browser, shots, "tenants")
    _press(browser, browser.find_element(
        By.CSS_SELECTOR, f'button[aria-label="Rotate key of instance {instance}"]'))
    new_key = _shown(browser, "API key")
    assert new_key != key
    with pytest.raises(ApiError) as refused:
        edge.get_task(task_id)
    assert refused.value.status == 401
    edge = EdgeClient(api_url, instance, new_key)
    assert edge.get_task(task_id)["status"] == "COMPLETED"

    # Every change is in the audit log, under the operator who made it.
    browser.get(f"{console}/audit")
    audit = browser.find_element(By.TAG_NAME, "main").text
    for action in ("console.login", "tenant.create", "task.resume", "key.rotate"):
        assert action in audit
    _check_page(browser, shots, "audit", keyboard=False)

    # What the tenant spent (the offline voice: speech characters, no cost), what failed in
    # the last day, and every function's latest start.
    browser.get(f"{console}/usage?tenant={tenant}")
    assert tenant in browser.find_element(By.TAG_NAME, "main").text
    _check_page(browser, shots, "usage")
    stuck_id, _ = _failed_waiting_on_its_upload(edge)  # its upload never comes
    browser.get(f"{console}/failures")
    failures = browser.find_element(By.TAG_NAME, "main").text
    assert stuck_id in failures and failed_id not in failures  # the resumed one completed
    _check_page(browser, shots, "failures", keyboard=False)
    browser.get(f"{console}/health")
    health = browser.find_element(By.TAG_NAME, "main").text
    assert "console" in health and "stage_worker" in health
    _check_page(browser, shots, "health")
    assert deps.tasks.get(failed_id).status == TaskStatus.COMPLETED  # type: ignore[union-attr]
