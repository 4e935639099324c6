"""The real page in headless Chromium: bars drawn per range, range and scale changes, sources.

Runs the dashboard as a subprocess on a free 127.0.0.1 port, exactly as a user starts it.
Never skipped in CI: with ``CI`` set to any value, tests/conftest.py turns the skip below into a
failure (a missing Chromium there is a broken build).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shopdata.covid.browser import (
    PLOT_GEOMETRY_JS,
    TEXT_BOXES_JS,
    chart_state,
    chromium_executable,
    free_port,
    launch_chromium,
    overlapping,
    running_dashboard,
    wait_for_bars,
)
from shopdata.covid.snapshot import load_snapshot
from shopdata.covid.transform import analyse

from .conftest import ROUTE, FakeCovidApi, Reply, api_records, json_reply

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
    monkeypatch.setenv("SHOPDATA_COVID__PAGE_POLL_S", "0.3")
    fake_api.script(Reply(500))
    with running_dashboard(free_port()) as url:
        page = open_page(browser, url)
        wait_for_bars(page, 1142)
        page.wait_for_function(
            "() => document.querySelector('#source-reason').textContent.includes('failed')"
        )
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
    monkeypatch.setenv("SHOPDATA_COVID__PAGE_POLL_S", "0.3")
    with running_dashboard(free_port()) as url:
        page = open_page(browser, url)
        # The API series starts on the first case (2020-01-23): 1,142 days, 1,141 bars.
        wait_for_bars(page, 1141)
        assert page.inner_text(".badge") == "live"
        assert page.inner_text("#source-label") == f"live API {fake_api.base_url}{ROUTE}"
        page.close()


VIEWPORTS = [(360, 640), (390, 844), (768, 1024), (1366, 768), (1920, 1080), (2560, 1440)]


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=lambda v: str(v))
def test_layout_fits_the_screen_with_no_overlapping_text(
    browser: Browser, offline_url: str, width: int, height: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(offline_url)
    wait_for_bars(page, 1142)
    # 2021: its first date label sits at the plot's left edge, next to the lowest cumulative
    # tick ("50k" over "Jan 2021" at 360 px).
    for view, bars in (("all", 1142), ("2023", 67), ("2022", 365), ("2021", 365)):
        if view != "all":
            page.click(f"#preset-{view}")
            wait_for_bars(page, bars)
            page.wait_for_timeout(300)  # the relayout after a redraw settles
        geometry = page.evaluate(PLOT_GEOMETRY_JS)
        assert geometry["plot"] >= 0.85 * geometry["chart"], (view, geometry)
        assert geometry["page"] <= width, f"{view}: the page scrolls sideways at {width} px"
        boxes = page.evaluate(TEXT_BOXES_JS)
        groups = {box["group"] for box in boxes}
        assert {"legend", "xtick", "ytick", "y2tick"} <= groups, groups
        assert overlapping(boxes) == [], f"{view} at {width}x{height}"
        # The heading above the chart wraps instead of being cut.
        title = page.eval_on_selector(
            "#chart-title", "e => [e.scrollWidth <= e.clientWidth, e.textContent]"
        )
        assert title[0], title[1]
        if width < 600:
            # Phone: the legend sits below the plot area, the y titles are captions above it.
            legend = page.locator("#cases-graph .legend").bounding_box()
            plot = page.locator("#cases-graph .draglayer .xy2 .nsewdrag").bounding_box()
            assert legend is not None and plot is not None
            assert legend["y"] > plot["y"] + plot["height"]
            captions = page.eval_on_selector_all(
                "#cases-graph .annotation-text", "nodes => nodes.map(n => n.textContent)"
            )
            assert captions == ["New cases per day", "Cumulative"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"covid-{width}x{height}.png"))
    page.close()


def test_a_live_source_url_does_not_make_a_phone_scroll_sideways(
    browser: Browser, fake_api: FakeCovidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The source line names the API's URL, one unbreakable word of ~65 characters: at 360 px
    # the page was 445 px wide (live or cached data; the snapshot's label wraps).
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("SHOPDATA_COVID__PAGE_POLL_S", "0.3")
    with running_dashboard(free_port()) as url:
        page = browser.new_page(viewport={"width": 360, "height": 640})
        page.goto(url)
        wait_for_bars(page, 1141)
        page.wait_for_function("() => document.querySelector('.badge').textContent === 'live'")
        assert page.inner_text("#source-label") == f"live API {fake_api.base_url}{ROUTE}"
        assert page.evaluate("() => document.documentElement.scrollWidth") == 360
        label = page.locator("#source-label").bounding_box()
        assert label is not None and label["x"] + label["width"] <= 360
        page.close()


@pytest.mark.parametrize(("width", "height"), [(360, 640), (1366, 768), (2560, 1440)], ids=str)
def test_log_scale_tick_labels_do_not_overlap(
    browser: Browser, offline_url: str, width: int, height: int
) -> None:
    # Plotly labelled every digit between powers of ten on a log axis ("600", "700", "800",
    # "900", "1,000" on top of each other) for 2022, 2023 and the last 90 days at any width,
    # and the cumulative panel's "2,230,000" labels cut a phone's plot area to 80 %.
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(offline_url)
    wait_for_bars(page, 1142)
    page.click("text=Log")
    for view, bars in (("2022", 365), ("2023", 67), ("90d", 89), ("2021", 365), ("all", 1142)):
        page.click(f"#preset-{view}")
        wait_for_bars(page, bars)
        page.wait_for_timeout(300)
        assert chart_state(page)["yType"] == "log"
        boxes = page.evaluate(TEXT_BOXES_JS)
        assert overlapping(boxes) == [], f"log, {view} at {width}x{height}"
        assert sum(1 for box in boxes if box["group"] == "ytick") >= 2, (view, boxes)
        geometry = page.evaluate(PLOT_GEOMETRY_JS)
        assert geometry["plot"] >= 0.85 * geometry["chart"], (view, geometry)
    page.close()


def test_a_resize_across_the_phone_breakpoint_re_lays_out_the_chart(
    browser: Browser, offline_url: str
) -> None:
    page = open_page(browser, offline_url)
    wait_for_bars(page, 1142)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function(
        "() => document.querySelector('#cases-graph .js-plotly-plot')"
        "._fullLayout.legend.yref === 'container'"
    )
    page.wait_for_timeout(300)
    geometry = page.evaluate(PLOT_GEOMETRY_JS)
    assert geometry["plot"] >= 0.85 * geometry["chart"]
    assert overlapping(page.evaluate(TEXT_BOXES_JS)) == []
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_function(
        "() => document.querySelector('#cases-graph .js-plotly-plot')"
        "._fullLayout.legend.yref === 'paper'"
    )
    assert page.locator("#cases-graph .g-ytitle").text_content() == "New cases per day"
    page.close()


def serious_violations(page: Page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]})
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 768)], ids=str)
def test_axe_finds_no_serious_or_critical_violation(
    browser: Browser, offline_url: str, width: int, height: int
) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(offline_url)
    wait_for_bars(page, 1142)
    assert serious_violations(page) == []
    page.click("#preset-2023")
    wait_for_bars(page, 67)
    page.click("#range")  # the open date picker too
    page.wait_for_selector(".dash-datepicker-content")
    assert serious_violations(page) == []
    page.close()


def test_chart_is_labelled_and_its_values_reachable_by_keyboard(
    browser: Browser, offline_url: str
) -> None:
    import urllib.request

    page = open_page(browser, offline_url)
    wait_for_bars(page, 1142)
    chart = page.locator("[role=figure]")
    assert chart.get_attribute("aria-labelledby") == "chart-title"
    assert page.locator("[role=group][aria-labelledby=scale-label]").inner_text() == (
        "Scale\nLinear\nLog"
    )
    assert page.locator("#range-wrapper").get_attribute("aria-labelledby") == "range-label"
    assert page.locator("#preset-all").get_attribute("aria-pressed") == "true"
    # Keyboard only: Tab to the 2022 preset, press Enter, Tab on to the CSV download.
    page.focus("#preset-2021")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "preset-2022"
    page.keyboard.press("Enter")
    wait_for_bars(page, 365)
    page.wait_for_function(
        "() => document.querySelector('#preset-2022').getAttribute('aria-pressed') === 'true'"
    )
    assert page.locator("#preset-all").get_attribute("aria-pressed") == "false"
    assert page.locator("#preset-2022").get_attribute("class") == "active"
    # The hover's values as a table, opened and read with the keyboard.
    page.focus("#table-toggle")
    page.keyboard.press("Enter")
    page.wait_for_selector("#data-table tbody tr")
    assert page.get_attribute("#table-toggle", "aria-expanded") == "true"
    assert page.inner_text("#data-table p") == "Daily values, 01 Jan 2022 to 31 Dec 2022"
    table = page.eval_on_selector_all(
        "#data-table tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert table[0] == ["Date", "New cases (bar)", "7-day average", "Cumulative (reported)", "Kind"]
    assert len(table) == 366
    march_9 = {d.date: d for d in analyse(load_snapshot()).days}[dt.date(2022, 3, 9)]
    assert march_9.avg7 is not None
    assert table[31 + 28 + 9] == [
        "Wed 09 Mar 2022",
        "19,626",
        f"{march_9.avg7:,.0f}",
        f"{march_9.cumulative:,}",
        "catch-up day, spread over the pause",
    ]
    assert serious_violations(page) == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "download"
    assert page.evaluate("document.activeElement.textContent") == "Download the shown days as CSV"
    page.keyboard.press("Tab")  # the table's scrolling region is focusable (arrow keys scroll)
    assert page.evaluate("document.activeElement.getAttribute('role')") == "region"
    page.click("#table-toggle")
    page.wait_for_function("() => !document.querySelector('#data-table table')")
    assert page.get_attribute("#table-toggle", "aria-expanded") == "false"
    href = page.get_attribute("#download", "href")
    assert href == "/data.csv?start=2022-01-01&end=2022-12-31"
    with urllib.request.urlopen(offline_url.rstrip("/") + href, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/csv")
        rows = response.read().decode().splitlines()
    assert rows[0] == "date,cumulative_reported,new_cases_shown,kind,avg7"
    assert len(rows) == 366
    assert rows[1].startswith("2022-01-01,")
    assert rows[-1].startswith("2022-12-31,")
    shown = {d.date: d for d in analyse(load_snapshot()).days}
    day = shown[dt.date(2022, 3, 9)]
    assert rows[31 + 28 + 9].startswith(f"2022-03-09,{day.cumulative},19626,catch_up,")
    page.close()


def test_an_end_date_before_the_start_is_swapped_in_the_picker(
    browser: Browser, offline_url: str
) -> None:
    page = open_page(browser, offline_url)
    wait_for_bars(page, 1142)
    page.click("#preset-2023")
    wait_for_bars(page, 67)
    page.fill("#range-end-date", "1 Dec 2022")
    page.press("#range-end-date", "Enter")
    page.wait_for_function("() => document.querySelector('#range').value === '1 Dec 2022'")
    assert page.input_value("#range-end-date") == "1 Jan 2023"
    wait_for_bars(page, 32)
    assert chart_state(page)["title"].endswith("1 Dec 2022 \u2013 1 Jan 2023")
    page.close()


def test_the_picker_opens_on_the_month_being_edited(browser: Browser, offline_url: str) -> None:
    page = open_page(browser, offline_url)
    wait_for_bars(page, 1142)
    page.click("#preset-2021")
    wait_for_bars(page, 365)
    page.click("#range")
    calendar = page.wait_for_selector(".dash-datepicker-content")
    assert calendar is not None
    shown = calendar.inner_text()
    assert shown.startswith("January\n") and "January 2021\n" in shown, shown[:80]
    assert "March 2023" not in shown
    assert page.input_value(".dash-datepicker-content input[type=number]") == "2021"
    page.close()


def source_reason(page: Page) -> str:
    return page.inner_text("#source-reason")


def test_a_hanging_api_does_not_delay_the_page_and_fails_at_the_deadline(
    browser: Browser, fake_api: FakeCovidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: 4 x 10 s timeouts plus back-off (44 s) before the port answered.
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("SHOPDATA_COVID__DEADLINE_S", "4")
    monkeypatch.setenv("SHOPDATA_COVID__PAGE_POLL_S", "0.3")
    fake_api.script(Reply(200, b"[]", delay_s=120))
    with running_dashboard(free_port(), timeout_s=20) as url:
        # The page is served while the API's only request is still hanging.
        assert fake_api.requests in ([], [ROUTE])
        page = open_page(browser, url)
        wait_for_bars(page, 1142)
        assert page.inner_text(".badge") == "snapshot"
        if "failed" not in source_reason(page):
            assert source_reason(page) == (
                "Why this source: the live API has not answered yet (fetching in the "
                "background, deadline 4 s); no cache yet."
            )
        page.wait_for_function(
            "() => document.querySelector('#source-reason').textContent.includes('failed')",
            timeout=20_000,
        )
        assert source_reason(page) == (
            f"Why this source: the live API failed: GET {fake_api.base_url}{ROUTE}: no answer "
            "within the 4 s deadline (attempt 1 timed out); no cache yet."
        )
        assert fake_api.requests == [ROUTE]
        page.close()


def test_a_trickling_api_does_not_delay_the_page_and_fails_at_the_deadline(
    browser: Browser, fake_api: FakeCovidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("SHOPDATA_COVID__DEADLINE_S", "3")
    monkeypatch.setenv("SHOPDATA_COVID__PAGE_POLL_S", "0.3")
    body = json.dumps(api_records(("2020-01-23", 1), ("2020-01-24", 3))).encode()
    fake_api.script(Reply(200, body, trickle_bps=20))
    with running_dashboard(free_port(), timeout_s=20) as url:
        page = open_page(browser, url)
        wait_for_bars(page, 1142)
        page.wait_for_function(
            "() => document.querySelector('#source-reason').textContent.includes('failed')",
            timeout=20_000,
        )
        assert source_reason(page).startswith(
            f"Why this source: the live API failed: GET {fake_api.base_url}{ROUTE}: no answer "
            "within the 3 s deadline ("
        )
        assert source_reason(page).endswith(" bytes of the body received); no cache yet.")
        assert page.inner_text(".badge") == "snapshot"
        page.close()


def test_a_10x_jump_on_the_latest_day_is_flagged_on_the_page(
    browser: Browser, fake_api: FakeCovidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("SHOPDATA_COVID__PAGE_POLL_S", "0.3")
    jumped = api_records(
        ("2023-03-07", 2_230_868), ("2023-03-08", 2_235_294), ("2023-03-09", 22_352_940)
    )
    fake_api.script(json_reply(jumped))
    with running_dashboard(free_port(), timeout_s=20) as url:
        page = open_page(browser, url)
        page.wait_for_function(
            "() => document.querySelector('#source-suspect') !== null", timeout=20_000
        )
        assert page.inner_text("#source-suspect") == (
            "Suspect data: 1 implausible jump(s), shown as served: 2023-03-09: cumulative "
            "2,235,294 -> 22,352,940 in one day (10.0x, not taken back)."
        )
        page.close()


def test_live_data_arriving_later_updates_the_open_page_with_its_age(
    browser: Browser, fake_api: FakeCovidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", fake_api.base_url)
    monkeypatch.setenv("SHOPDATA_COVID__PAGE_POLL_S", "0.3")
    monkeypatch.setenv("SHOPDATA_COVID__REFRESH_S", "1")
    spiked = api_records(
        ("2021-06-01", 61_000),
        ("2021-06-02", 61_100),
        ("2021-06-03", 61_268),
        ("2021-06-04", 612_680),
        ("2021-06-05", 61_300),
        ("2021-06-06", 61_350),
    )
    # The first answer takes 3 s; the refresh a second later serves a series with a typo.
    slow_first = Reply(200, json.dumps(api_records(("2021-06-01", 61_000))).encode(), delay_s=3)
    fake_api.script(slow_first, json_reply(spiked))
    with running_dashboard(free_port(), timeout_s=20) as url:
        page = open_page(browser, url)
        wait_for_bars(page, 1142)  # the snapshot first, at once
        # No reload: the poll brings the live series, then the refreshed one.
        page.wait_for_function(
            "() => document.querySelector('#source-suspect') !== null", timeout=20_000
        )
        assert page.inner_text(".badge") == "live"
        source = page.inner_text("#source")
        assert ", data up to 6 Jun 2021, fetched just now (" in source
        assert page.inner_text("#source-suspect") == (
            "Suspect data: 1 count(s) the source took back: 2021-06-04: cumulative 61,268 -> "
            "612,680 -> 61,300 (spike, reverted the next day)."
        )
        wait_for_bars(page, 6)
        # The picker follows the new data (the old range was "everything").
        assert page.input_value("#range") == "1 Jun 2021"
        assert page.input_value("#range-end-date") == "6 Jun 2021"
        assert [t[0] for t in chart_state(page)["traces"]] == [
            "New cases",
            "New cases, spread over a reporting pause",
            "New cases, suspect data (spread)",
            "7-day average",
            "Cumulative confirmed",
            "Suspect count (taken back by the source)",
        ]
        assert page.inner_text("#summary").startswith("6 days · 61,350 new cases · ")
        assert page.inner_text("#summary").endswith(
            " · 2 suspect day(s): a count the source took back"
        )
        page.close()
    assert len(fake_api.requests) >= 2
