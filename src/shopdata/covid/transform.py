"""Pure transforms from cumulative counts to what the chart shows.

A cumulative series that is differenced naively lies in two ways, and both happen in the data:

* **Reporting pauses.** The count stays flat for days (no report) and then jumps by the backlog
  (Singapore, 2023-02-13..02-26: 14 flat days, then +4,391 on 02-27). Plotting the differences
  shows 14 days of zero followed by a spike that never happened on one day. When the days before
  the flat run averaged at least ``pause_min_daily_mean`` new cases a day (so a true zero is
  implausible), the catch-up is spread evenly over the flat days and the catch-up day, and those
  days are marked ``pause``/``catch_up`` so the chart can draw them differently. A flat run at
  the very end (no catch-up yet) is ``unreported``: no value, not a zero.
* **Downward corrections.** The cumulative count falls (a source removed duplicates). A negative
  "new cases" bar is meaningless; the day is marked ``correction``, shows 0 new cases and the
  correction is listed separately. The cumulative line keeps the reported values, so the drop
  stays visible there.

A third lie is a typo: a day served with a wrong count that the source itself takes back, e.g.
``61,268 -> 612,680 -> 61,300`` (a 10x spike, reverted the next day) or ``612,680 -> 61,268 ->
613,000`` (a dip that more than halves the count, reverted). Differenced naively that is a 551k
bar plus a "correction", and the bars no longer add up to the count. Such a run of up to
``MAX_ANOMALY_DAYS`` days is an :class:`Anomaly`: its days are ``suspect``, the honest change
(from the day before the run to the day that reverted it) is spread evenly over them like a
pause, and the page, ``covid summary`` and ``covid fetch`` name them.

Missing calendar days are filled by carrying the last count forward (they are days without a
report, and the pause rule above then applies). The totals stay exact: the bars add up to the
last cumulative count plus the size of the (unexplained) corrections (see :func:`analyse`).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from shopdata.covid.schema import DayCount

DayKind = Literal["reported", "pause", "catch_up", "correction", "unreported", "suspect"]
AnomalyShape = Literal["spike", "dip"]

WINDOW_DAYS = 7
MAX_ANOMALY_DAYS = 7
SPIKE_TAKEN_BACK = 0.8
"""A drop is the revert of a spike when it takes back at least this share of the rise."""
DIP_DEPTH = 0.5
JUMP_FACTOR = 2
"""A cumulative count that grows by this factor in one day is implausible (a :class:`Jump`)..."""
JUMP_MIN_BEFORE = 1000
"""...once it is at least this large (early counts do double: 1 -> 3)."""
"""A drop is a dip (not a correction) when it removes at least this share of the count."""


@dataclass(frozen=True, slots=True)
class Day:
    """One calendar day as the chart shows it."""

    date: dt.date
    cumulative: int
    change: int
    """Cumulative minus the previous day's (the first day: minus zero, the dayone convention)."""
    new_cases: float | None
    """What the bar shows: ``>= 0``; ``None`` when the day is not reported yet."""
    kind: DayKind
    avg7: float | None
    """Mean of ``new_cases`` over this day and the 6 before; ``None`` if any is missing."""


@dataclass(frozen=True, slots=True)
class Pause:
    """A run of days without a report, with the catch-up that ended it (if any)."""

    first_day: dt.date
    last_day: dt.date
    """The catch-up day, or the last unreported day when ``caught_up`` is false."""
    days: int
    """Days the catch-up is spread over: the flat days plus the catch-up day."""
    catch_up_cases: int
    caught_up: bool

    @property
    def per_day(self) -> float:
        """Cases shown on each day of the pause."""
        return self.catch_up_cases / self.days if self.caught_up else 0.0


@dataclass(frozen=True, slots=True)
class Correction:
    """A day on which the cumulative count went down."""

    date: dt.date
    change: int


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Days whose reported count the source itself took back: impossible as served."""

    first_day: dt.date
    last_day: dt.date
    """The last wrong day; the next day is the one that reverted it."""
    shape: AnomalyShape
    before: int
    """The count on the day before the run."""
    reported: tuple[int, ...]
    """The wrong counts as served."""
    after: int
    """The count on the day that reverted the run."""

    def describe(self) -> str:
        """One line, e.g. ``2021-06-02: cumulative 61,268 -> 612,680 -> 61,300 (spike, reverted
        the next day)``."""
        span = (
            self.first_day.isoformat()
            if self.first_day == self.last_day
            else f"{self.first_day.isoformat()}..{self.last_day.isoformat()}"
        )
        values = " -> ".join(f"{v:,}" for v in (self.before, *self.reported, self.after))
        if self.first_day == self.last_day:
            return f"{span}: cumulative {values} ({self.shape}, reverted the next day)"
        days = (self.last_day - self.first_day).days + 1
        reverted = (self.last_day + dt.timedelta(days=1)).isoformat()
        return (
            f"{span}: cumulative {values} ({self.shape} over {days} days, reverted on {reverted})"
        )


@dataclass(frozen=True, slots=True)
class Jump:
    """A day on which the cumulative count at least doubled from ``JUMP_MIN_BEFORE`` or more.

    Impossible for a confirmed-case count (a 10x typo), but nothing has taken it back yet (it
    is typically the latest day): the bar shows it as served, and it is flagged, unconfirmed.
    """

    date: dt.date
    before: int
    reported: int

    def describe(self) -> str:
        """One line, e.g. ``2023-03-09: cumulative 2,235,294 -> 22,352,940 in one day (10.0x,
        not taken back)``."""
        return (
            f"{self.date.isoformat()}: cumulative {self.before:,} -> {self.reported:,} in one "
            f"day ({self.reported / self.before:.1f}x, not taken back)"
        )


@dataclass(frozen=True, slots=True)
class Analysis:
    """The whole series, ready to slice and draw."""

    days: tuple[Day, ...]
    pauses: tuple[Pause, ...]
    corrections: tuple[Correction, ...]
    filled_dates: tuple[dt.date, ...]
    """Calendar days missing from the source, filled by carrying the count forward."""
    anomalies: tuple[Anomaly, ...] = ()
    jumps: tuple[Jump, ...] = ()
    """Implausible rises nothing has taken back (see :class:`Jump`); their bars are as served."""

    @property
    def first_date(self) -> dt.date:
        return self.days[0].date

    @property
    def last_date(self) -> dt.date:
        return self.days[-1].date


def fill_missing_days(
    points: Sequence[DayCount],
) -> tuple[tuple[DayCount, ...], tuple[dt.date, ...]]:
    """Insert missing calendar days with the previous day's count; return them too."""
    filled: list[DayCount] = []
    missing: list[dt.date] = []
    one_day = dt.timedelta(days=1)
    for point in points:
        if filled:
            day = filled[-1].date + one_day
            while day < point.date:
                filled.append(DayCount(day, filled[-1].cumulative))
                missing.append(day)
                day += one_day
        filled.append(point)
    return tuple(filled), tuple(missing)


def daily_changes(points: Sequence[DayCount]) -> list[int]:
    """Day-on-day differences; the first day counts from zero."""
    previous = 0
    changes: list[int] = []
    for point in points:
        changes.append(point.cumulative - previous)
        previous = point.cumulative
    return changes


def trailing_mean(values: Sequence[float | None], window: int = WINDOW_DAYS) -> list[float | None]:
    """Mean of each value and the ``window - 1`` before it; ``None`` until a full window."""
    out: list[float | None] = []
    for index in range(len(values)):
        if index + 1 < window:
            out.append(None)
            continue
        chunk = values[index + 1 - window : index + 1]
        if any(v is None for v in chunk):
            out.append(None)
        else:
            out.append(sum(v for v in chunk if v is not None) / window)
    return out


def find_anomalies(counts: Sequence[int]) -> list[tuple[int, int, AnomalyShape]]:
    """Runs ``(first, last, shape)`` of indexes whose counts were served wrong and reverted.

    A *spike*: days ``i..j-1`` above the count of day ``j``, which falls back to at least the
    level of day ``i-1`` and takes back at least ``SPIKE_TAKEN_BACK`` of the rise. A *dip*: day
    ``j`` removes at least ``DIP_DEPTH`` of the count and days ``j..m-1`` stay below the level
    of day ``j-1``, which day ``m`` reaches again. Either run is at most ``MAX_ANOMALY_DAYS``.
    """
    runs: list[tuple[int, int, AnomalyShape]] = []
    n = len(counts)
    j = 1
    floor = 1  # a run starts after the day that reverted the previous one
    while j < n:
        if counts[j] >= counts[j - 1]:
            j += 1
            continue
        found: tuple[int, int, AnomalyShape] | None = None
        for i in range(j - 1, max(0, j - MAX_ANOMALY_DAYS - 1), -1):
            if i < floor or counts[i] <= counts[j]:
                break
            if counts[i - 1] <= counts[j]:
                rise = counts[j - 1] - counts[i - 1]
                if counts[j - 1] - counts[j] >= SPIKE_TAKEN_BACK * rise:
                    found = (i, j - 1, "spike")
                break
        if found is None and counts[j - 1] - counts[j] >= DIP_DEPTH * counts[j - 1]:
            for m in range(j + 1, min(n, j + MAX_ANOMALY_DAYS + 1)):
                if counts[m] >= counts[j - 1]:
                    found = (j, m - 1, "dip")
                    break
        if found is None:
            j += 1
            continue
        runs.append(found)
        j = found[1] + 2
        floor = j
    return runs


def analyse(points: Sequence[DayCount], pause_min_daily_mean: float = 5.0) -> Analysis:
    """Turn cumulative counts into daily new cases with pauses and corrections handled.

    Invariant: ``sum(new_cases) == last cumulative - sum(correction changes)``; the reverts of
    anomalies are not corrections (their days are spread, see the module docstring).
    """
    if not points:
        raise ValueError("analyse() needs at least one day")
    series, filled = fill_missing_days(points)
    changes = daily_changes(series)
    counts = [p.cumulative for p in series]
    n = len(series)
    new: list[float | None] = [None] * n
    kinds: list[DayKind] = ["reported"] * n
    pauses: list[Pause] = []
    corrections: list[Correction] = []
    anomalies: list[Anomaly] = []
    runs = {first: (last, shape) for first, last, shape in find_anomalies(counts)}
    i = 0
    while i < n:
        if i in runs:
            last, shape = runs[i]
            resolved = last + 1
            level, after = counts[i - 1], counts[resolved]
            share = (after - level) / (resolved - i + 1)
            for k in range(i, resolved + 1):
                new[k], kinds[k] = share, "suspect"
            anomalies.append(
                Anomaly(
                    series[i].date,
                    series[last].date,
                    shape,
                    level,
                    tuple(counts[i:resolved]),
                    after,
                )
            )
            i = resolved + 1
            continue
        change = changes[i]
        if change < 0:
            new[i], kinds[i] = 0.0, "correction"
            corrections.append(Correction(series[i].date, change))
            i += 1
            continue
        if change > 0 or i == 0:
            new[i] = float(change)
            i += 1
            continue
        j = i
        while j < n and changes[j] == 0:
            j += 1
        before = [v for v in new[max(0, i - WINDOW_DAYS) : i] if v is not None]
        mean_before = sum(before) / len(before) if before else 0.0
        if mean_before < pause_min_daily_mean or (j < n and changes[j] < 0):
            # Quiet days with genuinely no cases (or flat days ended by a correction, whose
            # backlog is unknown): shown as zeros.
            for k in range(i, j):
                new[k] = 0.0
            i = j
            continue
        if j == n:
            for k in range(i, j):
                kinds[k] = "unreported"
            pauses.append(Pause(series[i].date, series[j - 1].date, j - i, 0, caught_up=False))
            i = j
            continue
        if j in runs:
            # The pause ends in a count the source took back: its backlog is the honest change
            # up to the day that reverted it, spread over the flat days and the suspect run.
            last, shape = runs[j]
            resolved = last + 1
            backlog = counts[resolved] - counts[i - 1]
            share = backlog / (resolved - i + 1)
            for k in range(i, resolved + 1):
                new[k], kinds[k] = share, ("pause" if k < j else "suspect")
            pauses.append(
                Pause(series[i].date, series[resolved].date, resolved - i + 1, backlog, True)
            )
            anomalies.append(
                Anomaly(
                    series[j].date,
                    series[last].date,
                    shape,
                    counts[j - 1],
                    tuple(counts[j:resolved]),
                    counts[resolved],
                )
            )
            i = resolved + 1
            continue
        share = changes[j] / (j - i + 1)
        for k in range(i, j + 1):
            new[k], kinds[k] = share, "pause"
        kinds[j] = "catch_up"
        pauses.append(Pause(series[i].date, series[j].date, j - i + 1, changes[j], caught_up=True))
        i = j + 1
    jumps = tuple(
        Jump(series[k].date, counts[k - 1], counts[k])
        for k in range(1, n)
        if kinds[k] != "suspect"
        and counts[k - 1] >= JUMP_MIN_BEFORE
        and counts[k] >= JUMP_FACTOR * counts[k - 1]
    )
    averages = trailing_mean(new)
    days = tuple(
        Day(p.date, p.cumulative, c, v, k, a)
        for p, c, v, k, a in zip(series, changes, new, kinds, averages, strict=True)
    )
    return Analysis(days, tuple(pauses), tuple(corrections), filled, tuple(anomalies), jumps)


def select_range(analysis: Analysis, start: dt.date, end: dt.date) -> tuple[Day, ...]:
    """The days from ``start`` to ``end`` inclusive (averages were computed on the full series)."""
    dates = [day.date for day in analysis.days]
    return analysis.days[bisect_left(dates, start) : bisect_right(dates, end)]
