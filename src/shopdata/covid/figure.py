"""The chart as a plain Plotly figure dict (no plotly.graph_objects: building it stays ~ms).

Top panel: daily new cases as bars plus the 7-day average line. Bars of days whose count was
spread over a reporting pause are orange and hatched; days not reported yet are a grey band with
no bar; suspect days (a count the source took back, see ``transform``) are purple bars on a
purple band. Bottom panel: cumulative confirmed as reported, with downward corrections marked. Both
panels share the date axis and one unified hover that shows every value of the hovered day.

Colours meet WCAG 2.2 non-text contrast (3:1): bars against white, the 7-day line against the
bars. The title is the page's heading above the chart (it wraps on a phone, an SVG title does
not); ``assets/responsive.js`` adapts legend, margins and ticks to the chart's width.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shopdata.covid.transform import Analysis, Day, Pause, select_range

Scale = Literal["linear", "log"]

# Contrast (WCAG relative luminance): BLUE 3.3:1 and ORANGE 3.5:1 on white, PURPLE 4.5:1;
# DARK (the 7-day line) 5.3:1 on BLUE and 5.1:1 on ORANGE; RED 4.4:1 on white.
BLUE = "#5b8fd1"
ORANGE = "#d0700f"
PURPLE = "#a05ab8"
DARK = "#111827"
RED = "#c81e1e"
GREY = "#9aa0a6"
LABEL_ROW_HEIGHT = 0.085
"""Height of a row of pause labels, as a share of the top panel."""
MIN_PLOT_WIDTH_PX = 600
"""Plot width assumed to place pause labels (labels are hidden on narrower charts)."""
LABEL_CHAR_PX = 6.4


@dataclass(frozen=True, slots=True)
class RangeSummary:
    """Counts that the page prints above the chart for the selected range."""

    days: int
    bars: int
    pauses: int
    spread_days: int
    unreported_days: int
    corrections: int
    new_cases: int
    """The cumulative count at the end of the range minus the one before its first day."""
    suspect_days: int = 0

    def sentence(self) -> str:
        """One line for the page."""
        parts = [f"{self.days:,} days", f"{self.new_cases:,} new cases"]
        parts.append(
            f"{self.pauses} reporting pause(s), catch-ups spread over {self.spread_days} day(s)"
        )
        if self.unreported_days:
            parts.append(f"{self.unreported_days} day(s) not reported yet")
        parts.append(f"{self.corrections} downward correction(s)")
        if self.suspect_days:
            parts.append(f"{self.suspect_days} suspect day(s): a count the source took back")
        return " · ".join(parts)


def _fmt_date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def pauses_in(analysis: Analysis, start: dt.date, end: dt.date) -> list[Pause]:
    """Pauses overlapping the range."""
    return [p for p in analysis.pauses if p.last_day >= start and p.first_day <= end]


def summarise(analysis: Analysis, days: Sequence[Day]) -> RangeSummary:
    """Counts for :class:`RangeSummary`.

    New cases are the cumulative difference over the range, never the sum of the bars: a range
    that cuts a spread pause or a suspect run would otherwise count days twice or not at all.
    """
    if not days:
        return RangeSummary(0, 0, 0, 0, 0, 0, 0)
    before_first = days[0].cumulative - days[0].change
    return RangeSummary(
        days=len(days),
        bars=sum(1 for d in days if d.new_cases is not None),
        pauses=sum(1 for p in pauses_in(analysis, days[0].date, days[-1].date) if p.caught_up),
        spread_days=sum(1 for d in days if d.kind in ("pause", "catch_up")),
        unreported_days=sum(1 for d in days if d.kind == "unreported"),
        corrections=sum(1 for d in days if d.kind == "correction"),
        new_cases=days[-1].cumulative - before_first,
        suspect_days=sum(1 for d in days if d.kind == "suspect"),
    )


def _band(first: dt.date, last: dt.date, color: str) -> dict[str, Any]:
    half = dt.timedelta(hours=12)
    return {
        "type": "rect",
        "xref": "x",
        "yref": "y domain",
        "x0": (dt.datetime.combine(first, dt.time()) - half).isoformat(),
        "x1": (dt.datetime.combine(last, dt.time()) + half).isoformat(),
        "y0": 0,
        "y1": 1,
        "fillcolor": color,
        "opacity": 0.12,
        "line": {"width": 0},
        "layer": "below",
    }


def _label(pause: Pause, row: int, on_right: bool = False) -> dict[str, Any]:
    """Text over a pause band in row ``row`` from the top: it starts at the band's left edge,
    or ends at its right edge when the band is in the right third (so it is not clipped)."""
    text = (
        f"reporting pause: {pause.catch_up_cases:,} cases over {pause.days} days"
        if pause.caught_up
        else "not reported"
    )
    half = dt.timedelta(hours=12)
    edge = (
        dt.datetime.combine(pause.last_day, dt.time()) + half
        if on_right
        else dt.datetime.combine(pause.first_day, dt.time()) - half
    )
    return {
        "x": edge.isoformat(),
        "xref": "x",
        "y": 1.0 - row * LABEL_ROW_HEIGHT,
        "yref": "y domain",
        "text": text,
        "showarrow": False,
        "xanchor": "right" if on_right else "left",
        "yanchor": "top",
        "font": {"size": 11, "color": "#7a4106" if pause.caught_up else "#4b5563"},
        "bgcolor": "rgba(255,255,255,0.9)",
    }


def on_right_part(pause: Pause, first: dt.date, last: dt.date) -> bool:
    """Whether the pause starts in the right third of the range."""
    return pause.first_day >= first + (last - first) * 2 / 3


def label_rows(
    pauses: Sequence[Pause], first: dt.date, last: dt.date, texts: Sequence[str]
) -> list[int]:
    """A row per label so that no two labels overlap on a plot ``MIN_PLOT_WIDTH_PX`` wide.

    The range's days are spread over the width, so a label of ``n`` characters covers
    ``n * LABEL_CHAR_PX`` pixels' worth of days from its anchor (see :func:`_label`).
    """
    span_days = max(1, (last - first).days + 1)
    days_per_px = span_days / MIN_PLOT_WIDTH_PX
    ends: list[float] = []  # per row: the day offset where its last label ends
    rows: list[int] = []
    for pause, text in zip(pauses, texts, strict=True):
        width = (len(text) * LABEL_CHAR_PX + 8) * days_per_px
        if on_right_part(pause, first, last):
            begin = (pause.last_day - first).days + 0.5 - width
        else:
            begin = max(0, (pause.first_day - first).days) - 0.5
        row = next((r for r, end in enumerate(ends) if end < begin), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = begin + width
        rows.append(row)
    return rows


def _suspect_note(analysis: Analysis) -> dict[dt.date, str]:
    notes: dict[dt.date, str] = {}
    for anomaly in analysis.anomalies:
        note = f"suspect: {anomaly.describe()}"
        day = anomaly.first_day
        while day <= anomaly.last_day + dt.timedelta(days=1):
            notes[day] = note
            day += dt.timedelta(days=1)
    return notes


def build_figure(
    analysis: Analysis, start: dt.date, end: dt.date, scale: Scale = "linear"
) -> dict[str, Any]:
    """The figure for the days from ``start`` to ``end`` (inclusive)."""
    days = select_range(analysis, start, end)
    pause_note = {
        p.last_day: (f"{p.catch_up_cases:,} reported on {_fmt_date(p.last_day)} for {p.days} days")
        for p in analysis.pauses
        if p.caught_up
    }
    pause_of: dict[dt.date, str] = {}
    for p in analysis.pauses:
        if p.caught_up:
            day = p.first_day
            while day <= p.last_day:
                pause_of[day] = pause_note[p.last_day]
                day += dt.timedelta(days=1)

    reported = [d for d in days if d.kind in ("reported", "correction")]
    spread = [d for d in days if d.kind in ("pause", "catch_up")]
    suspect = [d for d in days if d.kind == "suspect"]
    corrections = [d for d in days if d.kind == "correction"]
    dates = [d.date.isoformat() for d in days]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": "New cases",
            "x": [d.date.isoformat() for d in reported],
            "y": [d.new_cases for d in reported],
            "marker": {"color": BLUE, "line": {"width": 0}},
            "hovertemplate": "%{y:,.0f}",
        },
        {
            "type": "bar",
            "name": "New cases, spread over a reporting pause",
            "x": [d.date.isoformat() for d in spread],
            "y": [d.new_cases for d in spread],
            "customdata": [pause_of[d.date] for d in spread],
            "marker": {
                "color": ORANGE,
                "line": {"width": 0},
                "pattern": {
                    "shape": "/",
                    "fillmode": "overlay",
                    "fgcolor": "rgba(255,255,255,0.6)",
                    "size": 5,
                    "solidity": 0.3,
                },
            },
            "hovertemplate": "%{y:,.0f} a day (%{customdata})",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "7-day average",
            "x": dates,
            "y": [d.avg7 for d in days],
            "line": {"color": DARK, "width": 2.5},
            "connectgaps": False,
            "hovertemplate": "%{y:,.0f}",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Cumulative confirmed",
            "x": dates,
            "y": [d.cumulative for d in days],
            "yaxis": "y2",
            "line": {"color": BLUE, "width": 2},
            "hovertemplate": "%{y:,}",
        },
    ]
    if suspect:
        notes = _suspect_note(analysis)
        traces.insert(
            2,
            {
                "type": "bar",
                "name": "New cases, suspect data (spread)",
                "x": [d.date.isoformat() for d in suspect],
                "y": [d.new_cases for d in suspect],
                "customdata": [notes[d.date] for d in suspect],
                "marker": {"color": PURPLE, "line": {"width": 0}},
                "hovertemplate": "%{y:,.0f} a day (%{customdata})",
            },
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Suspect count (taken back by the source)",
                "x": [d.date.isoformat() for d in suspect],
                "y": [d.cumulative for d in suspect],
                "yaxis": "y2",
                "customdata": [notes[d.date] for d in suspect],
                "marker": {"color": PURPLE, "symbol": "x", "size": 9},
                "hovertemplate": "%{y:,} as served (%{customdata})",
            }
        )
    if corrections:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "Downward correction",
                "x": [d.date.isoformat() for d in corrections],
                "y": [d.cumulative for d in corrections],
                "yaxis": "y2",
                "customdata": [d.change for d in corrections],
                "marker": {"color": RED, "symbol": "triangle-down", "size": 10},
                "hovertemplate": "cumulative revised by %{customdata:,}",
            }
        )
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    if days:
        first_shown, last_shown = days[0].date, days[-1].date
        annotate = (last_shown - first_shown).days <= 370
        labelled: list[Pause] = []
        for p in pauses_in(analysis, first_shown, last_shown):
            shapes.append(_band(p.first_day, p.last_day, ORANGE if p.caught_up else GREY))
            if annotate and (not p.caught_up or p.days >= 5):
                labelled.append(p)
        for anomaly in analysis.anomalies:
            if anomaly.last_day >= first_shown and anomaly.first_day <= last_shown:
                shapes.append(
                    _band(anomaly.first_day, anomaly.last_day + dt.timedelta(days=1), PURPLE)
                )
        texts = [_label(p, 0)["text"] for p in labelled]
        rows = label_rows(labelled, first_shown, last_shown, texts)
        annotations.extend(
            _label(p, row, on_right_part(p, first_shown, last_shown))
            for p, row in zip(labelled, rows, strict=True)
        )
    axis_type = "log" if scale == "log" else "linear"
    half_day = dt.timedelta(hours=12)
    x_range = (
        [
            (dt.datetime.combine(days[0].date, dt.time()) - half_day).isoformat(),
            (dt.datetime.combine(days[-1].date, dt.time()) + half_day).isoformat(),
        ]
        if days
        else None
    )
    return {
        "data": traces,
        "layout": {
            "meta": {"title": chart_title(days)},
            "template": "plotly_white",
            "font": {"color": "#1f2933"},
            "margin": {"l": 10, "r": 12, "t": 10, "b": 10},
            "bargap": 0.1,
            "barmode": "overlay",
            "hovermode": "x unified",
            "hoversubplots": "axis",
            "hoverlabel": {"namelength": -1},
            "legend": {
                "orientation": "h",
                "x": 0,
                "xanchor": "left",
                "y": 1.02,
                "yanchor": "bottom",
                "font": {"size": 12},
            },
            "separators": ".,",
            "xaxis": {
                "anchor": "y2",
                "type": "date",
                "range": x_range,
                "automargin": True,
                "title": {"text": "Reporting date", "standoff": 8},
                # Clear of the lowest cumulative tick ("0", "50k") when the first date label
                # sits at the left edge of the plot area.
                "ticklabelstandoff": 6,
                "hoverformat": "%a %d %b %Y",
                "showspikes": True,
                "spikemode": "across",
                "spikethickness": 1,
                "spikecolor": GREY,
            },
            "yaxis": {
                "domain": [0.4, 1.0],
                "automargin": True,
                "title": {"text": "New cases per day", "standoff": 10},
                "fixedrange": True,
                "tickformat": ",~r" if axis_type == "log" else ",",
                "type": axis_type,
                "rangemode": "tozero",
                **(
                    log_ticks([v for d in days for v in (d.new_cases, d.avg7)])
                    if axis_type == "log"
                    else {}
                ),
            },
            "yaxis2": {
                "domain": [0.0, 0.3],
                "automargin": True,
                "title": {"text": "Cumulative", "standoff": 10},
                "fixedrange": True,
                "tickformat": ",~r" if axis_type == "log" else "~s",
                "type": axis_type,
                **(log_ticks([d.cumulative for d in days]) if axis_type == "log" else {}),
            },
            "shapes": shapes,
            "annotations": annotations,
        },
    }


def log_ticks(values: Sequence[float | None]) -> dict[str, Any]:
    """Tick values for a panel on a log scale showing ``values``.

    Over less than ~3 decades Plotly labels every digit between powers of ten (600, 700, 800,
    900, 1,000, ...), and with full labels those overlap on any screen. There the ticks are 1, 2
    and 5 times powers of ten; over more decades, or when fewer than two of those fall inside
    the values (2,200,000 to 2,235,000), Plotly's own ticks are kept.
    """
    shown = [v for v in values if v is not None and v > 0]
    if not shown or max(shown) / min(shown) > 10**3:
        return {}
    low, high = min(shown), max(shown)
    ticks = [
        m * 10**e
        for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
        for m in (1, 2, 5)
    ]
    if sum(1 for t in ticks if low <= t <= high) < 2:
        return {}
    return {"tickmode": "array", "tickvals": [t for t in ticks if low / 3 <= t <= high * 3]}


def chart_title(days: Sequence[Day]) -> str:
    """The heading above the chart for the days shown."""
    span = f"{_fmt_date(days[0].date)} \u2013 {_fmt_date(days[-1].date)}" if days else "no data"
    return f"Confirmed COVID-19 cases in Singapore, {span}"
