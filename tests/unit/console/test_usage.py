"""The console's usage page on fakes: the usage ledger's days as tables with totals and a cost
chart drawn as SVG, for the last N days of every tenant or one."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from tests.support.fakes import fake_deps
from vss.console import create_console
from vss.console.charts import HEIGHT, TOP, bar_chart
from vss.console.tokens import issue_token
from vss.deps import Deps
from vss.domain.usage import Usage
from vss.service import auth

SECRET = "console-test-secret"
PLOT_HEIGHT = HEIGHT - TOP - 28  # charts.BOTTOM


@pytest.fixture
def deps() -> Deps:
    return fake_deps(console_secret=SECRET, storage_emulator_host="http://127.0.0.1:4443")


@pytest.fixture
def client(deps: Deps) -> FlaskClient:
    client = create_console(deps).test_client()
    page = client.get("/console/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    token = issue_token(SECRET, deps.clock(), 10)
    answer = client.post("/console/login", data={"token": token, "csrf_token": found[1]})
    assert answer.status_code == 302
    return client


def _charge(deps: Deps, tenant: str, days_ago: int, usage: Usage) -> None:
    deps.usage.charge(tenant, deps.clock() - timedelta(days=days_ago), usage)


class _Tables(HTMLParser):
    """Each table's caption and its body and footer rows, as the text of their cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list[list[str]]]] = {}
        self._caption: str | None = None
        self._part = ""
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "caption":
            self._in_caption, self._caption = True, ""
        elif tag in ("thead", "tbody", "tfoot"):
            self._part = tag
            assert self._caption is not None
            self.tables.setdefault(self._caption, {}).setdefault(tag, [])
        elif tag == "tr" and self._caption is not None:
            self.tables[self._caption][self._part].append([])
        elif tag in ("td", "th") and self._caption is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._caption is not None:
            self.tables[self._caption][self._part][-1].append(
                " ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._caption = None

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data
        elif self._cell is not None:
            self._cell.append(data)


def _tables(page: str) -> dict[str, dict[str, list[list[str]]]]:
    parser = _Tables()
    parser.feed(page)
    return {" ".join(caption.split()): parts for caption, parts in parser.tables.items()}


def _table(page: str, starts: str) -> dict[str, list[list[str]]]:
    (found,) = [parts for caption, parts in _tables(page).items() if caption.startswith(starts)]
    return found


def _svg(page: str) -> ET.Element:
    found = re.search(r"<svg.*?</svg>", page, re.S)
    assert found, "the page has a chart"
    return ET.fromstring(found[0])


def _bars(page: str) -> list[dict[str, str]]:
    return [dict(rect.attrib) | {"title": rect.findtext("title") or ""}
            for rect in _svg(page).iter("rect") if rect.get("class") == "bar"]


def test_the_page_needs_a_session(deps: Deps):
    answer = create_console(deps).test_client().get("/console/usage")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/console/login")


def test_the_tables_sum_the_ledgers_charges_per_tenant_and_day(client: FlaskClient,
                                                               deps: Deps):
    acme = auth.create_tenant(deps, "Acme Studio").tenant_id
    _charge(deps, acme, 0, Usage(llm_input_tokens=1000, llm_output_tokens=100, llm_calls=1,
                                 cost_usd=0.01))
    _charge(deps, acme, 0, Usage(tts_characters=1234, cost_usd=0.02))
    _charge(deps, acme, 3, Usage(tts_characters=10, cost_usd=0.5))
    _charge(deps, "t_other", 0, Usage(llm_calls=2, llm_input_tokens=5, cost_usd=0.1))
    _charge(deps, acme, 14, Usage(llm_calls=99, cost_usd=9.0))  # 15 days ago: not shown
    page = client.get("/console/usage").text
    today = deps.clock().date()
    days = _table(page, "Spend per tenant per day")
    assert days["thead"] == [["Day", "Tenant", "Model calls", "Input tokens", "Output tokens",
                              "Speech characters", "Cost (USD)"]]
    assert days["tbody"] == [
        [str(today), f"Acme Studio {acme}", "1", "1,000", "100", "1,234", "$0.0300"],
        [str(today), "unknown tenant t_other", "2", "5", "0", "0", "$0.1000"],
        [str(today - timedelta(days=3)), f"Acme Studio {acme}", "0", "0", "0", "10",
         "$0.5000"],
    ]
    assert days["tfoot"] == [["Total", "3", "1,005", "100", "1,244", "$0.6300"]]
    tenants = _table(page, "Spend by tenant")
    assert tenants["tbody"] == [
        [f"Acme Studio {acme}", "1", "1,000", "100", "1,244", "$0.5300"],
        ["unknown tenant t_other", "2", "5", "0", "0", "$0.1000"],
    ]
    assert tenants["tfoot"] == [["Total", "3", "1,005", "100", "1,244", "$0.6300"]]
    assert f"{today - timedelta(days=13)} to {today} (UTC)" in page


def test_the_tables_are_accessible(client: FlaskClient, deps: Deps):
    _charge(deps, "t_a", 0, Usage(llm_calls=1, cost_usd=0.01))
    page = client.get("/console/usage").text
    assert page.count("<caption>") == 2
    assert re.findall(r"<th(?! scope=\"(?:col|row)\")[ >]", page) == []  # every th scoped
    assert 'href="/console/usage"' in page  # in the nav


def test_the_chart_has_one_bar_per_day_as_tall_as_its_cost(client: FlaskClient, deps: Deps):
    _charge(deps, "t_a", 0, Usage(cost_usd=0.25, llm_calls=1))
    _charge(deps, "t_b", 0, Usage(cost_usd=0.25, llm_calls=1))  # stacked into one bar
    _charge(deps, "t_a", 2, Usage(cost_usd=1.0, llm_calls=1))
    _charge(deps, "t_a", 5, Usage(cost_usd=0.125, llm_calls=1))
    page = client.get("/console/usage?days=7").text
    bars = _bars(page)
    today = deps.clock().date()
    assert [b["title"].split(":")[0] for b in bars] == [
        str(today - timedelta(days=n)) for n in range(6, -1, -1)]  # oldest first
    heights = [float(b["height"]) for b in bars]
    assert heights == pytest.approx([0, 0.125 * PLOT_HEIGHT, 0, 0, PLOT_HEIGHT, 0,
                                     0.5 * PLOT_HEIGHT], abs=0.01)
    assert bars[4]["title"] == f"{today - timedelta(days=2)}: $1.0000"
    bottoms = {round(float(b["y"]) + float(b["height"]), 2) for b in bars}
    assert len(bottoms) == 1  # every bar stands on the baseline


def test_the_chart_is_an_image_with_a_name_and_no_style(client: FlaskClient, deps: Deps):
    _charge(deps, "t_a", 1, Usage(cost_usd=0.2, llm_calls=1))
    page = client.get("/console/usage").text
    svg = _svg(page)
    assert svg.get("role") == "img"
    ids = (svg.get("aria-labelledby") or "").split()
    named = {e.get("id"): "".join(e.itertext()) for e in svg.iter() if e.get("id")}
    assert ids and all(i in named for i in ids)
    assert svg[0].tag == "title" and "Cost per day of every tenant" in named[ids[0]]
    assert "$0.2000" in " ".join(named[ids[1]].split())  # the costliest day, described
    # The CSP allows the stylesheet alone: no style attribute or element, no script.
    assert not re.search(r"<style|\sstyle=|<script", page)
    assert {t.text for t in svg.iter("text")} >= {"$0.0000", "$0.2000"}


def test_an_idle_period_draws_flat_bars_and_says_nothing_was_spent(client: FlaskClient):
    page = client.get("/console/usage?days=3").text
    assert [float(b["height"]) for b in _bars(page)] == [0, 0, 0]
    assert "Nothing was spent in these days." in page


def test_a_tenant_filter_shows_that_tenants_days_alone(client: FlaskClient, deps: Deps):
    _charge(deps, "t_a", 0, Usage(cost_usd=0.5, llm_calls=1))
    _charge(deps, "t_b", 0, Usage(cost_usd=2.0, llm_calls=4))
    _charge(deps, "t_b", 1, Usage(cost_usd=1.0, llm_calls=2))
    page = client.get("/console/usage?tenant=t_b&days=2").text
    rows = _table(page, "Spend per tenant per day")["tbody"]
    assert [row[1] for row in rows] == ["unknown tenant t_b"] * 2
    assert _table(page, "Spend per tenant per day")["tfoot"][0][1:] == [
        "6", "0", "0", "0", "$3.0000"]
    assert [float(b["height"]) for b in _bars(page)] == pytest.approx(
        [0.5 * PLOT_HEIGHT, PLOT_HEIGHT], abs=0.01)
    assert 'value="t_b"' in page and 'value="2"' in page  # the form keeps the filters
    assert "Cost per day of unknown" not in page and "t_b" in _svg(page).findtext("title", "")


def test_the_days_default_to_14_and_reach_90(client: FlaskClient, deps: Deps):
    assert len(_bars(client.get("/console/usage").text)) == 14
    assert len(_bars(client.get("/console/usage?days=90").text)) == 90
    assert len(_bars(client.get("/console/usage?days=1").text)) == 1


@pytest.mark.parametrize("query", [
    "days=0", "days=91", "days=-1", "days=1.5", "days=two", "days=%EF%BC%91",  # a full-width 1
    "days=" + "9" * 5000, "tenant=t%2Fa", "tenant=__x__",
])
def test_a_bad_filter_is_a_400_page(client: FlaskClient, query: str):
    answer = client.get(f"/console/usage?{query}")
    assert answer.status_code == 400
    assert 'class="error"' in answer.text and answer.headers["Cache-Control"] == "no-store"


def test_a_chart_scales_large_and_small_values_alike():
    chart = bar_chart([("a", 3.0), ("b", 0.0), ("c", 1.5)], lambda v: f"{v}")
    assert [b.height for b in chart.bars] == [PLOT_HEIGHT, 0.0, PLOT_HEIGHT / 2]
    assert [label.text for label in chart.y_labels] == ["0.0", "3.0"]
    assert len(bar_chart([(str(n), 1.0) for n in range(90)], str).x_labels) <= 8
