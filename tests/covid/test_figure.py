"""The figure dict and the page's pure helpers (ranges, presets, zoom events)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shopdata.covid.app import parse_date, preset_range, range_from_relayout, render
from shopdata.covid.figure import build_figure
from shopdata.covid.schema import DayCount
from shopdata.covid.snapshot import load_snapshot
from shopdata.covid.transform import Analysis, analyse

FIRST, LAST = dt.date(2020, 1, 22), dt.date(2023, 3, 9)


@pytest.fixture(scope="module")
def singapore() -> Analysis:
    return analyse(load_snapshot())


def test_figure_for_a_pause_range(singapore: Analysis) -> None:
    figure = build_figure(singapore, dt.date(2023, 2, 10), dt.date(2023, 3, 9))
    bars, spread, average, cumulative = figure["data"]
    assert bars["x"] == ["2023-02-10", "2023-02-11", "2023-02-12"]
    assert bars["y"] == [439.0, 324.0, 244.0]  # 2,221,438 - 2,220,999, ...; from the CSV
    assert len(spread["x"]) == 24  # 15 + 2 + 7 spread days; 2023-03-09 has no bar
    assert spread["y"][0] == 4391 / 15
    assert spread["customdata"][0] == "4,391 reported on 27 Feb 2023 for 15 days"
    assert spread["hovertemplate"] == "%{y:,.0f} a day (%{customdata})"
    assert average["y"][-1] is None  # the unreported last day has no average
    assert cumulative["y"][-1] == 2_235_294
    assert cumulative["yaxis"] == "y2"
    layout = figure["layout"]
    assert layout["title"]["text"] == (
        "Confirmed COVID-19 cases in Singapore, 10 Feb 2023 \u2013 9 Mar 2023"
    )
    assert layout["xaxis"]["range"] == ["2023-02-09T12:00:00", "2023-03-09T12:00:00"]
    assert [a["text"] for a in layout["annotations"]] == [
        "reporting pause: 4,391 cases over 15 days",
        "reporting pause: 4,426 cases over 7 days",
        "not reported",
    ]
    assert len(layout["shapes"]) == 4  # three pauses and the unreported day
    assert (layout["yaxis"]["tickformat"], layout["yaxis"]["type"]) == (",", "linear")


def test_log_scale_applies_to_both_panels(singapore: Analysis) -> None:
    layout = build_figure(singapore, FIRST, LAST, "log")["layout"]
    assert (layout["yaxis"]["type"], layout["yaxis2"]["type"]) == ("log", "log")
    assert layout["annotations"] == []  # no labels over the whole 3 years, only bands


def test_corrections_get_markers_on_the_cumulative_panel() -> None:
    d0 = dt.date(2021, 1, 1)
    points = [DayCount(d0 + dt.timedelta(days=i), c) for i, c in enumerate([0, 5, 10, 8, 12])]
    figure = build_figure(analyse(points), d0, d0 + dt.timedelta(days=4))
    marker = figure["data"][-1]
    assert (marker["name"], marker["x"], marker["y"], marker["customdata"]) == (
        "Downward correction",
        ["2021-01-04"],
        [8],
        [-2],
    )
    assert figure["data"][0]["y"] == [0.0, 5.0, 5.0, 0.0, 4.0]


def test_render_swaps_a_reversed_range_and_summarises(singapore: Analysis) -> None:
    figure, sentence = render(singapore, dt.date(2023, 3, 9), dt.date(2023, 1, 1), "linear")
    assert figure["layout"]["xaxis"]["range"][0] == "2022-12-31T12:00:00"
    assert sentence == (
        "68 days · 33,080 new cases · 3 reporting pause(s), catch-ups spread over 24 day(s) · "
        "1 day(s) not reported yet · 0 downward correction(s)"
    )


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("all", (FIRST, LAST)),
        ("2020", (FIRST, dt.date(2020, 12, 31))),
        ("2023", (dt.date(2023, 1, 1), LAST)),
        ("90d", (dt.date(2022, 12, 10), LAST)),
    ],
)
def test_presets_are_clamped_to_the_data(preset: str, expected: tuple[dt.date, dt.date]) -> None:
    assert preset_range(preset, FIRST, LAST) == expected


@pytest.mark.parametrize(
    ("relayout", "expected"),
    [
        ({"xaxis.autorange": True}, (FIRST, LAST)),
        (
            {"xaxis.range[0]": "2021-03-01 18:00", "xaxis.range[1]": "2021-03-31 06:00:00.5"},
            (dt.date(2021, 3, 2), dt.date(2021, 3, 31)),
        ),
        ({"xaxis.range": ["2021-03-01", "2021-03-03"]}, (dt.date(2021, 3, 1), dt.date(2021, 3, 3))),
        ({"xaxis.range": ["2019-01-01", "2030-01-01"]}, (FIRST, LAST)),
        ({"xaxis.range[0]": "2021-03-01 01:00", "xaxis.range[1]": "2021-03-01 23:00"}, None),
        ({"autosize": True}, None),
        ({"xaxis.range": ["soon", "later"]}, None),
    ],
)
def test_zoom_events_become_date_ranges(
    relayout: dict[str, object], expected: tuple[dt.date, dt.date] | None
) -> None:
    assert range_from_relayout(relayout, FIRST, LAST) == expected


def test_parse_date_falls_back_to_the_default() -> None:
    assert parse_date("2021-05-06T00:00:00", FIRST) == dt.date(2021, 5, 6)
    assert parse_date(None, FIRST) == FIRST
    assert parse_date("not a date", LAST) == LAST


def test_bundled_plotly_js_matches_the_installed_plotly() -> None:
    from plotly.offline import get_plotlyjs_version

    assets = Path(__file__).resolve().parents[2] / "src/shopdata/covid/assets"
    assert [p.name for p in assets.glob("plotly*.js")] == [
        f"plotly-basic-{get_plotlyjs_version()}.min.js"
    ]
    # Dash loads assets by name: the resize guard must come after plotly.js.
    assert sorted(p.name for p in assets.glob("*.js"))[-1] == "resize-guard.js"
