"""Daily differences, the 7-day average, reporting pauses and downward corrections."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from shopdata.covid.schema import DayCount
from shopdata.covid.snapshot import load_snapshot
from shopdata.covid.transform import (
    Anomaly,
    Correction,
    Jump,
    Pause,
    analyse,
    daily_changes,
    fill_missing_days,
    find_anomalies,
    select_range,
    trailing_mean,
)

D0 = dt.date(2021, 1, 1)


def series(*counts: int) -> list[DayCount]:
    return [DayCount(D0 + dt.timedelta(days=i), c) for i, c in enumerate(counts)]


def test_daily_changes_count_the_first_day_from_zero() -> None:
    assert daily_changes(series(3, 5, 5, 12)) == [3, 2, 0, 7]


def test_trailing_mean_needs_a_full_window_and_no_gaps() -> None:
    values: list[float | None] = [1, 2, 3, 4, 5, 6, 7, 8, None, 10]
    assert trailing_mean(values, 3) == [None, None, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, None, None]


def test_seven_day_average_is_exact() -> None:
    analysis = analyse(series(10, 20, 30, 40, 50, 60, 70, 85, 99))
    assert [d.avg7 for d in analysis.days] == [None] * 6 + [10.0, 75 / 7, 79 / 7]


def test_reporting_pause_is_spread_over_the_flat_days_and_the_catch_up_day() -> None:
    analysis = analyse(series(10, 20, 30, 40, 50, 60, 70, 70, 70, 100, 110))
    assert [d.change for d in analysis.days] == [10] * 7 + [0, 0, 30, 10]
    assert [d.new_cases for d in analysis.days] == [10.0] * 11
    assert [d.kind for d in analysis.days][6:] == [
        "reported",
        "pause",
        "pause",
        "catch_up",
        "reported",
    ]
    assert analysis.pauses == (
        Pause(D0 + dt.timedelta(days=7), D0 + dt.timedelta(days=9), 3, 30, caught_up=True),
    )
    assert analysis.pauses[0].per_day == 10.0
    assert [d.avg7 for d in analysis.days][6:] == [10.0] * 5


def test_zero_days_at_low_incidence_are_real_zeros() -> None:
    analysis = analyse(series(0, 1, 1, 1, 3), pause_min_daily_mean=5.0)
    assert [d.new_cases for d in analysis.days] == [0.0, 1.0, 0.0, 0.0, 2.0]
    assert {d.kind for d in analysis.days} == {"reported"}
    assert analysis.pauses == ()


def test_pause_threshold_is_a_parameter() -> None:
    analysis = analyse(series(0, 1, 1, 1, 3), pause_min_daily_mean=0.5)
    assert [d.new_cases for d in analysis.days] == [0.0, 1.0, 2 / 3, 2 / 3, 2 / 3]


def test_flat_run_at_the_end_is_unreported_not_zero() -> None:
    analysis = analyse(series(*range(10, 90, 10), 80, 80))
    assert [d.new_cases for d in analysis.days][-3:] == [10.0, None, None]
    assert [d.kind for d in analysis.days][-2:] == ["unreported", "unreported"]
    assert [d.avg7 for d in analysis.days][-3:] == [10.0, None, None]
    assert analysis.pauses == (
        Pause(D0 + dt.timedelta(days=8), D0 + dt.timedelta(days=9), 2, 0, caught_up=False),
    )


def test_downward_correction_shows_zero_new_cases_and_is_listed() -> None:
    analysis = analyse(series(0, 5, 10, 8, 12))
    assert [d.change for d in analysis.days] == [0, 5, 5, -2, 4]
    assert [d.new_cases for d in analysis.days] == [0.0, 5.0, 5.0, 0.0, 4.0]
    assert [d.kind for d in analysis.days] == [
        "reported",
        "reported",
        "reported",
        "correction",
        "reported",
    ]
    assert analysis.corrections == (Correction(D0 + dt.timedelta(days=3), -2),)


def test_flat_days_ended_by_a_correction_stay_zero() -> None:
    analysis = analyse(series(10, 20, 30, 40, 50, 60, 70, 70, 65))
    assert [d.new_cases for d in analysis.days][-2:] == [0.0, 0.0]
    assert [d.kind for d in analysis.days][-2:] == ["reported", "correction"]
    assert analysis.pauses == ()


def test_missing_days_are_carried_forward_and_become_a_pause() -> None:
    points = [*series(10, 20, 30, 40, 50, 60, 70), DayCount(D0 + dt.timedelta(days=9), 100)]
    filled, missing = fill_missing_days(points)
    assert missing == (D0 + dt.timedelta(days=7), D0 + dt.timedelta(days=8))
    assert [p.cumulative for p in filled][-3:] == [70, 70, 100]
    analysis = analyse(points)
    assert analysis.filled_dates == missing
    assert [d.new_cases for d in analysis.days][-3:] == [10.0, 10.0, 10.0]


def test_select_range_is_inclusive_and_keeps_full_series_averages() -> None:
    analysis = analyse(series(*range(10, 110, 10)))
    chosen = select_range(analysis, D0 + dt.timedelta(days=6), D0 + dt.timedelta(days=7))
    assert [(d.date.day, d.avg7) for d in chosen] == [(7, 10.0), (8, 10.0)]
    assert select_range(analysis, dt.date(2030, 1, 1), dt.date(2030, 2, 1)) == ()


def test_singapore_snapshot_pauses_and_values() -> None:
    analysis = analyse(load_snapshot())
    days = {d.date.isoformat(): d for d in analysis.days}
    assert len(analysis.days) == 1143
    assert analysis.corrections == ()
    assert len(analysis.pauses) == 21
    assert [p for p in analysis.pauses if p.days >= 5] == [
        Pause(dt.date(2023, 2, 13), dt.date(2023, 2, 27), 15, 4391, caught_up=True),
        Pause(dt.date(2023, 3, 2), dt.date(2023, 3, 8), 7, 4426, caught_up=True),
    ]
    # The 14 flat days and the +4,391 catch-up: 4,391 / 15 on each of the 15 days.
    assert {days[f"2023-02-{n:02}"].new_cases for n in range(13, 28)} == {4391 / 15}
    assert days["2023-02-12"].new_cases == 244.0
    # "Largest one-day rise" 2022-03-09 (+39,252) follows a day without a report.
    assert (days["2022-03-08"].change, days["2022-03-09"].change) == (0, 39252)
    assert days["2022-03-08"].new_cases == days["2022-03-09"].new_cases == 19626.0
    # Early 2020: a quiet day is a real zero.
    assert (days["2020-01-25"].new_cases, days["2020-01-25"].kind) == (0.0, "reported")
    assert days["2020-05-02"].new_cases == 447.0
    assert days["2020-05-08"].avg7 == 658.0  # (21,707 - 17,101) / 7
    assert days["2023-03-09"].kind == "unreported"
    assert days["2023-03-09"].new_cases is None
    shown = sum(d.new_cases for d in analysis.days if d.new_cases is not None)
    assert round(shown, 6) == 2_235_294


@given(st.lists(st.integers(min_value=-50, max_value=200), min_size=1, max_size=60))
def test_bars_are_never_negative_and_add_up(steps: list[int]) -> None:
    counts: list[int] = []
    total = 0
    for step in steps:
        total = max(0, total + step)
        counts.append(total)
    analysis = analyse(series(*counts))
    shown = [d.new_cases for d in analysis.days if d.new_cases is not None]
    assert all(v >= 0 for v in shown)
    corrections = sum(c.change for c in analysis.corrections)
    assert abs(sum(shown) - (counts[-1] - corrections)) < 1e-6
    # Every suspect run is bounded by counts the series returns to.
    for anomaly in analysis.anomalies:
        assert anomaly.before <= anomaly.after


def test_a_reverted_10x_spike_is_suspect_and_spread_not_a_551k_bar() -> None:
    # The typo: 61,268 -> 612,680 -> back to 61,300 the next day.
    counts = [61_000, 61_050, 61_100, 61_150, 61_200, 61_268, 612_680, 61_300, 61_350]
    analysis = analyse(series(*counts))
    spike, revert = D0 + dt.timedelta(days=6), D0 + dt.timedelta(days=7)
    assert analysis.anomalies == (Anomaly(spike, spike, "spike", 61_268, (612_680,), 61_300),)
    assert analysis.anomalies[0].describe() == (
        "2021-01-07: cumulative 61,268 -> 612,680 -> 61,300 (spike, reverted the next day)"
    )
    assert analysis.corrections == ()
    assert [d.kind for d in analysis.days][5:] == ["reported", "suspect", "suspect", "reported"]
    assert [d.new_cases for d in analysis.days][6:8] == [16.0, 16.0]  # (61,300 - 61,268) / 2
    assert {d.date: d.cumulative for d in analysis.days}[revert] == 61_300  # as reported
    shown = sum(d.new_cases for d in analysis.days if d.new_cases is not None)
    assert shown == 61_350


def test_a_reverted_dip_is_suspect_too() -> None:
    counts = [600_000, 601_000, 602_000, 60_200, 60_300, 604_000, 605_000]
    analysis = analyse(series(*counts))
    assert [(a.shape, a.first_day.day, a.last_day.day) for a in analysis.anomalies] == [
        ("dip", 4, 5)
    ]
    assert analysis.corrections == ()
    assert [d.new_cases for d in analysis.days][3:6] == [2000 / 3] * 3
    assert [d.kind for d in analysis.days][3:] == ["suspect", "suspect", "suspect", "reported"]
    # A run of days says how long it lasted and when it was reverted ("the next day" was
    # ambiguous for 2021-01-04..2021-01-05).
    assert analysis.anomalies[0].describe() == (
        "2021-01-04..2021-01-05: cumulative 602,000 -> 60,200 -> 60,300 -> 604,000 "
        "(dip over 2 days, reverted on 2021-01-06)"
    )


def test_small_corrections_stay_corrections() -> None:
    # Not taken back by most of the rise (spike) nor halving the count (dip).
    assert find_anomalies([0, 5, 10, 8, 12]) == []
    assert find_anomalies([10, 20, 30, 40, 50, 60, 70, 70, 65]) == []
    # A spike reverted only after more than a week is not recognised either.
    assert find_anomalies([100, *[1000] * 8, 101]) == []
    assert find_anomalies([100, *[1000] * 7, 101]) == [(1, 7, "spike")]


def test_a_spike_that_ends_a_reporting_pause_is_still_suspect() -> None:
    # The bundled series' tail with a 10x typo on the catch-up day 2023-03-08, reverted on
    # 03-09: it was a "pause" of 20,122,072 cases (2.87M a day) plus a -20M correction.
    counts = [2_226_442, *[2_230_868] * 7, 22_352_940, 2_235_294]
    analysis = analyse(series(*counts))
    typo = D0 + dt.timedelta(days=8)
    assert analysis.anomalies == (
        Anomaly(typo, typo, "spike", 2_230_868, (22_352_940,), 2_235_294),
    )
    assert analysis.corrections == ()
    # The 6 flat days, the typo and the revert share the honest change: 4,426 over 8 days.
    assert [d.kind for d in analysis.days][1:] == ["reported", *["pause"] * 6, "suspect", "suspect"]
    assert [d.new_cases for d in analysis.days][2:] == [4_426 / 8] * 8
    assert analysis.pauses == (
        Pause(D0 + dt.timedelta(days=2), D0 + dt.timedelta(days=9), 8, 4_426, caught_up=True),
    )
    shown = sum(d.new_cases for d in analysis.days if d.new_cases is not None)
    assert round(shown, 6) == 2_235_294


@given(st.lists(st.integers(min_value=-50, max_value=200), min_size=1, max_size=40))
def test_every_reverted_run_is_reported_as_suspect(steps: list[int]) -> None:
    counts: list[int] = []
    total = 0
    for k, step in enumerate(steps):
        total = max(0, total + step)
        # every fifth day served 10x (a typo the next day takes back), after flat runs too
        counts.append(total * 10 + 1000 if k % 5 == 3 else total)
    analysis = analyse(series(*counts))
    found = [
        (D0 + dt.timedelta(days=a), D0 + dt.timedelta(days=b)) for a, b, _ in find_anomalies(counts)
    ]
    assert [(a.first_day, a.last_day) for a in analysis.anomalies] == found


def test_a_count_that_jumps_10x_on_the_last_day_is_flagged_unconfirmed() -> None:
    # The day a typo is served, nothing has taken it back yet: a 20M-case bar was shown with
    # no flag at all and `fetch` exited 0.
    counts = [2_230_868, 2_230_868, 2_235_294, 22_352_940]
    analysis = analyse(series(*counts))
    assert analysis.anomalies == ()
    assert analysis.jumps == (Jump(D0 + dt.timedelta(days=3), 2_235_294, 22_352_940),)
    assert analysis.jumps[0].describe() == (
        "2021-01-04: cumulative 2,235,294 -> 22,352,940 in one day (10.0x, not taken back)"
    )
    # Shown as served: the bars still add up to the last count.
    assert analysis.days[-1].new_cases == 20_117_646
    # Early counts do double; a reverted spike is an anomaly, not also a jump.
    assert analyse(series(1, 3, 7, 400, 999, 1998)).jumps == ()
    assert analyse(series(61_268, 612_680, 61_300)).jumps == ()


def test_the_bundled_series_has_no_implausible_jump() -> None:
    analysis = analyse(load_snapshot())
    assert analysis.jumps == ()
    assert analysis.anomalies == ()
