"""Accessibility checks of a page open in the browser: axe-core's WCAG 2 A/AA rules (labels,
contrast, landmarks, names...) and a keyboard walk through every focusable control."""

from __future__ import annotations

from typing import Any

from axe_core_python.selenium import Axe
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def axe_violations(browser: webdriver.Chrome) -> list[dict[str, Any]]:
    """Every WCAG 2.1 A/AA rule the page breaks, as (rule, impact, the offending HTML)."""
    results = Axe().run(browser, options=WCAG_AA)
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [node["html"][:160] for node in v["nodes"]]}
            for v in results["violations"]]


FOCUSABLE = """
return Array.from(document.querySelectorAll(
    'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, '
    + 'textarea, audio[controls], [tabindex]:not([tabindex="-1"])'))
  .filter((e) => e.getClientRects().length > 0 || e.classList.contains('skip'));
"""


def keyboard_reaches_every_control(browser: webdriver.Chrome) -> list[str]:
    """Tab from the top of the page through every control; the controls never reached (each
    as its outer HTML, shortened). The first Tab must land on the skip link."""
    controls = browser.execute_script(FOCUSABLE)
    browser.execute_script("document.activeElement && document.activeElement.blur();"
                           "window.scrollTo(0, 0);")
    def tab() -> Any:
        ActionChains(browser).send_keys(Keys.TAB).perform()
        return browser.switch_to.active_element

    first = tab()
    reached = [first]
    for _ in range(6 * len(controls) + 5):  # an audio player's controls take several stops
        if all(c in reached for c in controls):
            break
        reached.append(tab())
    missing = [c for c in controls if c not in reached]
    problems = [c.get_attribute("outerHTML")[:120] for c in missing]
    if "skip" not in (first.get_attribute("class") or ""):
        problems.insert(0, "the first Tab does not reach the skip link: "
                        + first.get_attribute("outerHTML")[:120])
    return problems
