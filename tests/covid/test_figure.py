"""The figure dict and the page's pure helpers (ranges, presets, zoom events)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopdata.covid.app import parse_date, preset_range, range_from_relayout, render
from shopdata.covid.figure import LABEL_ROW_HEIGHT, build_figure, summarise
from shopdata.covid.schema import DayCount
from shopdata.covid.snapshot import load_snapshot
from shopdata.covid.transform import Analysis, analyse, select_range

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
    # The title is the page's heading above the chart (it wraps on a phone).
    assert layout["meta"]["title"] == (
        "Confirmed COVID-19 cases in Singapore, 10 Feb 2023 \u2013 9 Mar 2023"
    )
    assert "title" not in layout
    assert layout["xaxis"]["range"] == ["2023-02-09T12:00:00", "2023-03-09T12:00:00"]
    assert [a["text"] for a in layout["annotations"]] == [
        "reporting pause: 4,391 cases over 15 days",
        "reporting pause: 4,426 cases over 7 days",
        "not reported",
    ]
    assert len(layout["shapes"]) == 4  # three pauses and the unreported day
    # The two pause labels and "not reported" are close together: each gets its own row.
    assert [a["y"] for a in layout["annotations"]] == [1.0, 1.0 - LABEL_ROW_HEIGHT, 1.0]
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
    # Dash loads assets by name: the resize guard, then the responsive layout (which wraps the
    # guarded resize) must come after plotly.js.
    assert sorted(p.name for p in assets.glob("*.js"))[-2:] == ["resize-guard.js", "responsive.js"]


def test_pause_labels_of_2023_do_not_share_a_row_when_they_would_overlap(
    singapore: Analysis,
) -> None:
    layout = build_figure(singapore, dt.date(2023, 1, 1), LAST)["layout"]
    notes = [(a["text"], a["xanchor"], a["y"]) for a in layout["annotations"]]
    assert notes == [
        ("reporting pause: 4,391 cases over 15 days", "left", 1.0),
        ("reporting pause: 4,426 cases over 7 days", "right", 1.0 - LABEL_ROW_HEIGHT),
        ("not reported", "right", 1.0 - 2 * LABEL_ROW_HEIGHT),
    ]


def spiked() -> Analysis:
    d0 = dt.date(2021, 6, 1)
    counts = [61_000, 61_050, 61_100, 61_150, 61_200, 61_268, 612_680, 61_300, 61_350]
    return analyse([DayCount(d0 + dt.timedelta(days=i), c) for i, c in enumerate(counts)])


def test_suspect_days_are_drawn_purple_and_marked_on_the_cumulative_panel() -> None:
    figure = build_figure(spiked(), dt.date(2021, 6, 1), dt.date(2021, 6, 9))
    names = [t["name"] for t in figure["data"]]
    assert names == [
        "New cases",
        "New cases, spread over a reporting pause",
        "New cases, suspect data (spread)",
        "7-day average",
        "Cumulative confirmed",
        "Suspect count (taken back by the source)",
    ]
    suspect = figure["data"][2]
    assert (suspect["x"], suspect["y"]) == (["2021-06-07", "2021-06-08"], [16.0, 16.0])
    assert suspect["customdata"][0] == (
        "suspect: 2021-06-07: cumulative 61,268 -> 612,680 -> 61,300 (spike, reverted the next day)"
    )
    assert max(figure["data"][0]["y"][1:]) == 68.0  # no 551k bar (day 1 counts from zero)
    assert figure["data"][5]["y"] == [612_680, 61_300]


def test_summary_new_cases_is_the_cumulative_difference() -> None:
    analysis = spiked()
    _, sentence = render(analysis, dt.date(2021, 6, 1), dt.date(2021, 6, 9), "linear")
    assert sentence == (
        "9 days · 61,350 new cases · 0 reporting pause(s), catch-ups spread over 0 day(s) · "
        "0 downward correction(s) · 2 suspect day(s): a count the source took back"
    )
    _, sentence = render(analysis, dt.date(2021, 6, 2), dt.date(2021, 6, 8), "linear")
    assert sentence.split(" · ")[1] == "300 new cases"  # 61,300 - 61,000


@given(
    st.lists(st.integers(min_value=-60, max_value=400), min_size=1, max_size=50),
    st.integers(min_value=0, max_value=49),
    st.integers(min_value=0, max_value=49),
)
def test_range_new_cases_always_equal_the_cumulative_difference(
    steps: list[int], a: int, b: int
) -> None:
    counts: list[int] = []
    total = 0
    for step in steps:
        total = max(0, total + step * (10 if step % 7 == 0 else 1))
        counts.append(total)
    d0 = dt.date(2021, 1, 1)
    analysis = analyse([DayCount(d0 + dt.timedelta(days=i), c) for i, c in enumerate(counts)])
    low, high = sorted((min(a, len(counts) - 1), min(b, len(counts) - 1)))
    days = select_range(analysis, d0 + dt.timedelta(days=low), d0 + dt.timedelta(days=high))
    before = counts[low - 1] if low > 0 else 0
    assert summarise(analysis, days).new_cases == counts[high] - before
