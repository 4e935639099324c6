"""The chart as a plain Plotly figure dict (no plotly.graph_objects: building it stays ~ms).

Top panel: daily new cases as bars plus the 7-day average line. Bars of days whose count was
spread over a reporting pause are orange and hatched; days not reported yet are a grey band with
no bar. Bottom panel: cumulative confirmed as reported, with downward corrections marked. Both
panels share the date axis and one unified hover that shows every value of the hovered day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from shopdata.covid.transform import Analysis, Day, Pause, select_range

Scale = Literal["linear", "log"]

BLUE = "#4c78a8"
ORANGE = "#f58518"
DARK = "#1d3557"
RED = "#d62728"
GREY = "#9aa0a6"


@dataclass(frozen=True, slots=True)
class RangeSummary:
    """Counts that the page prints above the chart for the selected range."""

    days: int
    bars: int
    pauses: int
    spread_days: int
    unreported_days: int
    corrections: int
    new_cases: float

    def sentence(self) -> str:
        """One line for the page."""
        parts = [f"{self.days:,} days", f"{round(self.new_cases):,} new cases"]
        parts.append(
            f"{self.pauses} reporting pause(s), catch-ups spread over {self.spread_days} day(s)"
        )
        if self.unreported_days:
            parts.append(f"{self.unreported_days} day(s) not reported yet")
        parts.append(f"{self.corrections} downward correction(s)")
        return " · ".join(parts)


def _fmt_date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def pauses_in(analysis: Analysis, start: dt.date, end: dt.date) -> list[Pause]:
    """Pauses overlapping the range."""
    return [p for p in analysis.pauses if p.last_day >= start and p.first_day <= end]


def summarise(analysis: Analysis, days: Sequence[Day]) -> RangeSummary:
    """Counts for :class:`RangeSummary`."""
    if not days:
        return RangeSummary(0, 0, 0, 0, 0, 0, 0.0)
    return RangeSummary(
        days=len(days),
        bars=sum(1 for d in days if d.new_cases is not None),
        pauses=sum(1 for p in pauses_in(analysis, days[0].date, days[-1].date) if p.caught_up),
        spread_days=sum(1 for d in days if d.kind in ("pause", "catch_up")),
        unreported_days=sum(1 for d in days if d.kind == "unreported"),
        corrections=sum(1 for d in days if d.kind == "correction"),
        new_cases=sum(d.new_cases for d in days if d.new_cases is not None),
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


def _label(pause: Pause, right_part: dt.date) -> dict[str, Any]:
    """Text over a pause band; right-aligned near the right edge so it is not clipped."""
    if pause.caught_up:
        text = f"reporting pause: {pause.catch_up_cases:,} cases over {pause.days} days"
        y = 1.0
    else:
        text = "not reported"
        y = 0.92
    on_right = pause.first_day >= right_part
    return {
        "x": (pause.last_day if on_right else pause.first_day).isoformat(),
        "xref": "x",
        "y": y,
        "yref": "y domain",
        "text": text,
        "showarrow": False,
        "xanchor": "right" if on_right else "left",
        "yanchor": "top",
        "font": {"size": 11, "color": "#8a4b08" if pause.caught_up else "#52606d"},
        "bgcolor": "rgba(255,255,255,0.85)",
    }


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
                    "fgcolor": "rgba(255,255,255,0.7)",
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
            "line": {"color": DARK, "width": 2},
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
        right_part = first_shown + (last_shown - first_shown) * 2 / 3
        for p in pauses_in(analysis, first_shown, last_shown):
            shapes.append(_band(p.first_day, p.last_day, ORANGE if p.caught_up else GREY))
            if annotate and (not p.caught_up or p.days >= 5):
                annotations.append(_label(p, right_part))
    span = f"{_fmt_date(days[0].date)} \u2013 {_fmt_date(days[-1].date)}" if days else "no data"
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
            "title": {
                "text": f"Confirmed COVID-19 cases in Singapore, {span}",
                "x": 0.01,
                "xanchor": "left",
                "font": {"size": 16},
            },
            "template": "plotly_white",
            "margin": {"l": 70, "r": 20, "t": 70, "b": 45},
            "bargap": 0.1,
            "barmode": "overlay",
            "hovermode": "x unified",
            "hoversubplots": "axis",
            "hoverlabel": {"namelength": -1},
            "legend": {"orientation": "h", "x": 0.01, "y": 1.07, "xanchor": "left"},
            "separators": ".,",
            "xaxis": {
                "anchor": "y2",
                "type": "date",
                "range": x_range,
                "title": {"text": "Reporting date"},
                "hoverformat": "%a %d %b %Y",
                "showspikes": True,
                "spikemode": "across",
                "spikethickness": 1,
                "spikecolor": GREY,
            },
            "yaxis": {
                "domain": [0.4, 1.0],
                "title": {"text": "New cases per day"},
                "fixedrange": True,
                "tickformat": ",~r" if axis_type == "log" else ",",
                "type": axis_type,
                "rangemode": "tozero",
            },
            "yaxis2": {
                "domain": [0.0, 0.32],
                "title": {"text": "Cumulative"},
                "fixedrange": True,
                "tickformat": ",~r" if axis_type == "log" else ",",
                "type": axis_type,
            },
            "shapes": shapes,
            "annotations": annotations,
        },
    }
