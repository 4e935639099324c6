"""The real page in headless Chromium: bars drawn per range, range and scale changes, sources.

Runs the dashboard as a subprocess on a free 127.0.0.1 port, exactly as a user starts it.
Never skipped in CI: with ``CI`` set to any value, tests/conftest.py turns the skip below into a
failure (a missing Chromium there is a broken build).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shopdata.covid.browser import (
    chart_state,
    chromium_executable,
    free_port,
    launch_chromium,
    running_dashboard,
    wait_for_bars,
)
from shopdata.covid.snapshot import load_snapshot
from shopdata.covid.transform import analyse

from .conftest import ROUTE, FakeCovidApi, Reply

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if chromium_executable() is None:
        pytest.skip("Chromium not installed (/usr/bin/chromium); run `make system-deps`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def offline_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One offline dashboard for the tests that only read the bundled snapshot."""
    cache = tmp_path_factory.mktemp("covid-cache")
    with running_dashboard(free_port(), ["--offline", "--cache-dir", str(cache)]) as url:
        yield url


def expected_hover(day: dt.date) -> list[str]:
    """The unified hover box for ``day`` of the bundled series, line by line."""
    shown = {d.date: d for d in analyse(load_snapshot()).days}[day]
    bar = (
        f"New cases : {shown.new_cases:,.0f}"
        if shown.kind == "reported"
        else f"New cases, spread over a reporting pause : {shown.new_cases:,.0f} a day"
    )
    assert shown.avg7 is not None
    return [
        f"{day:%a %d %b %Y}",
        bar,
        f"7-day average : {shown.avg7:,.0f}",
        f"Cumulative confirmed : {shown.cumulative:,}",
    ]


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(url)
    return page


def test_chart_draws_the_selected_range_and_follows_changes(
    browser: Browser, offline_url: str
) -> None:
    page = open_page(browser, offline_url)
    # Whole series: 1,143 days; the last (not reported) has no bar.
    wait_for_bars(page, 1142)
    state = chart_state(page)
    assert state["traces"] == [
        ["New cases", 1082],
        ["New cases, spread over a reporting pause", 60],
        ["7-day average", 1143],
        ["Cumulative confirmed", 1143],
    ]
    assert state["title"] == (
        "Confirmed COVID-19 cases in Singapore, 22 Jan 2020 \u2013 9 Mar 2023"
    )
    assert page.inner_text("#source-reason") == "Why this source: started with --offline."
    assert page.inner_text(".badge") == "snapshot"
    assert page.inner_text("#source") == (
        "snapshot Source: bundled snapshot of the JHU CSSE COVID-19 Data Repository "
        "(CC BY 4.0), data up to 9 Mar 2023. Why this source: started with --offline."
    )

    page.click("#preset-2022")
    wait_for_bars(page, 365)
    assert chart_state(page)["traces"] == [
        ["New cases", 341],
        ["New cases, spread over a reporting pause", 24],
        ["7-day average", 365],
        ["Cumulative confirmed", 365],
    ]
    assert page.input_value("#range") == "1 Jan 2022"
    assert page.input_value("#range-end-date") == "31 Dec 2022"
    assert page.inner_text("#summary") == (
        "365 days · 1,922,809 new cases · 11 reporting pause(s), catch-ups spread over "
        "24 day(s) · 0 downward correction(s)"
    )

    # Hovering shows the day and its values, formatted with thousands separators.
    plot = page.locator("#cases-graph .draglayer .xy .nsewdrag").bounding_box()
    assert plot is not None
    page.mouse.move(plot["x"] + plot["width"] / 2, plot["y"] + plot["height"] / 2)
    page.wait_for_selector("#cases-graph .hoverlayer .legend")
    hover = page.eval_on_selector_all(
        "#cases-graph .hoverlayer .legend text", "nodes => nodes.map(n => n.textContent)"
    )
    assert hover == expected_hover(dt.datetime.strptime(hover[0], "%a %d %b %Y").date())
    assert hover[0].endswith("2022")
    page.mouse.move(0, 0)

    # Typing a start date into the picker narrows the range to 2022-12-02..2022-12-31.
    page.fill("#range", "2 Dec 2022")
    page.press("#range", "Enter")
    wait_for_bars(page, 30)
    assert chart_state(page)["title"].endswith("2 Dec 2022 \u2013 31 Dec 2022")

    # Log scale keeps the range.
    page.click("text=Log")
    page.wait_for_function(
        "() => document.querySelector('#cases-graph .js-plotly-plot')"
        "._fullLayout.yaxis.type === 'log'"
    )
    assert chart_state(page)["bars"] == 30

    page.click("#preset-all")
    wait_for_bars(page, 1142)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "covid-dashboard-browser-test.png"))
    page.close()


def test_drag_zoom_on_the_chart_refilters_the_range(browser: Browser, offline_url: str) -> None:
    page = open_page(browser, offline_url)
    wait_for_bars(page, 1142)
    # What a drag-zoom over Feb 2023 emits (Plotly's relayout event).
    page.evaluate(
        "() => Plotly.relayout(document.querySelector('#cases-graph .js-plotly-plot'),"
        " {'xaxis.range[0]': '2023-01-31 18:00', 'xaxis.range[1]': '2023-02-28 10:00'})"
    )
    wait_for_bars(page, 28)
    assert page.input_value("#range") == "1 Feb 2023"
    assert page.input_value("#range-end-date") == "28 Feb 2023"
    # A double-click on the chart goes back to the whole period.
    page.dblclick("#cases-graph .draglayer .xy .nsewdrag")
    wait_for_bars(page, 1142)
    assert page.input_value("#range") == "22 Jan 2020"
    # A smaller window still re-lays out the chart (resize-guard.js skips only no-op resizes).
    page.set_viewport_size({"width": 1000, "height": 700})
    page.wait_for_function(
        "() => { const gd = document.querySelector('#cases-graph .js-plotly-plot');"
        " return gd._fullLayout.width === gd.clientWidth && gd.clientWidth < 1000; }"
    )
    page.close()


def test_failing_live_api_falls_back_visibly(
    browser: Browser, fake_api: FakeCovidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("SHOPDATA_COVID__MAX_RETRIES", "0")
    fake_api.script(Reply(500))
    with running_dashboard(free_port()) as url:
        page = open_page(browser, url)
        wait_for_bars(page, 1142)
        assert page.inner_text(".badge") == "snapshot"
        assert page.inner_text("#source-reason") == (
            f"Why this source: the live API failed: GET {fake_api.base_url}{ROUTE}: HTTP 500 "
            "Internal Server Error (gave up after 1 attempt); no cache yet."
        )
        page.close()


def test_answering_live_api_is_shown_as_live(
    browser: Browser, fake_api: FakeCovidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", fake_api.base_url)
    with running_dashboard(free_port()) as url:
        page = open_page(browser, url)
        # The API series starts on the first case (2020-01-23): 1,142 days, 1,141 bars.
        wait_for_bars(page, 1141)
        assert page.inner_text(".badge") == "live"
        assert page.inner_text("#source-label") == f"live API {fake_api.base_url}{ROUTE}"
        page.close()
