"""Headless Chromium (Debian's, never a downloaded build) driven through its WebDriver."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900"]


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A fresh browser profile per use; its console is readable with get_log("browser")."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(binary) is None:
            pytest.fail(f"{binary} is missing: `make setup` installs Debian's chromium and "
                        "chromium-driver")
    with tempfile.TemporaryDirectory(prefix="vss-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in [*FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def full_page_screenshot(browser: webdriver.Chrome, path: Path, max_height: int = 1500) -> None:
    """A PNG of the page from its top, as tall as its content (at most `max_height` px)."""
    browser.execute_script("document.activeElement && document.activeElement.blur();"
                           "window.scrollTo(0, 0);")
    width = browser.get_window_size()["width"]
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(width, min(max(int(height) + 120, 600), max_height))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(path))
    finally:
        browser.set_window_size(width, 900)


def page_left(page: WebElement) -> Callable[[webdriver.Chrome], bool]:
    """A `WebDriverWait` condition: the document `page` belongs to (its <html>) is gone.

    Selenium's `staleness_of` waits for a stale element error; while the next page replaces
    the document, Chromium can answer instead that the element's node "does not belong to the
    document" (an unknown error), which `staleness_of` raised, failing a test whose page had
    in fact moved on."""

    def left(_: webdriver.Chrome) -> bool:
        try:
            page.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    return left
