"""The Dash page: source banner, range and scale controls, the chart, and how to read it.

Why Dash: the chart is Plotly (hover, zoom, log axes, SVG export for free) and Dash serves it from
the same Python process that owns the data layer, with no JavaScript build step. The whole
series (~1,100 days) is analysed once at start-up; a range or scale change only slices it and
rebuilds a plain figure dict, so the server answers in ~10 ms and the browser's redraw is the
rest of the 200 ms budget (measured in ``bench/bench_covid.py``, recorded in docs/covid.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopdata.covid.figure import Scale, build_figure, summarise
from shopdata.covid.live import LiveData, Shown, age_text
from shopdata.covid.snapshot import SNAPSHOT_LICENSE, SNAPSHOT_URL
from shopdata.covid.transform import Analysis, select_range

if TYPE_CHECKING:
    from dash import Dash

GRAPH_ID = "cases-graph"

SCALES: tuple[tuple[str, str], ...] = (("linear", "Linear"), ("log", "Log"))

PRESETS: tuple[tuple[str, str], ...] = (
    ("all", "All"),
    ("2020", "2020"),
    ("2021", "2021"),
    ("2022", "2022"),
    ("2023", "2023"),
    ("90d", "Last 90 days"),
)

INDEX = """<!DOCTYPE html>
<html lang="en">
<head>{%metas%}<title>{%title%}</title>{%favicon%}{%css%}
<style>
  body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         color: #1f2933; background: #f5f7fa; }
  .page { max-width: 2400px; margin: 0 auto; padding: 10px 18px 16px; }
  h1 { font-size: 21px; margin: 0 0 4px; }
  .source { font-size: 13px; color: #4b5563; margin: 0 0 8px; overflow-wrap: anywhere; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600;
           font-size: 12px; margin-right: 2px; color: #fff; }
  .badge-live { background: #2f855a; } .badge-cache { background: #2b6cb0; }
  .badge-snapshot { background: #8a5a00; }
  .controls { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 18px;
              background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; padding: 6px 12px; }
  .controls .group { font-size: 13px; font-weight: 600; color: #3e4c59; margin-right: 6px; }
  .presets { display: flex; flex-wrap: wrap; gap: 4px; }
  .presets button { font: inherit; font-size: 13px; padding: 4px 10px;
                    border: 1px solid #7b8794; border-radius: 4px; background: #fff;
                    color: #1f2933; cursor: pointer; }
  .presets button:hover { background: #e6f0fa; border-color: #2b6cb0; }
  .presets button[aria-pressed="true"] { background: #1f4e8c; border-color: #1f4e8c; color: #fff; }
  .presets button:focus-visible, .download:focus-visible { outline: 3px solid #1f4e8c;
                                                          outline-offset: 2px; }
  .scale { align-items: center; }
  .dash-datepicker-content .dash-input-stepper { min-width: 24px; min-height: 24px; }
  .summary { font-size: 13px; color: #3e4c59; margin: 6px 2px 0; }
  .chart-title { font-size: 16px; margin: 8px 2px 0; }
  .chart { background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; margin-top: 4px; }
  .data-links { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px;
                margin: 6px 2px 0; }
  .download { font-size: 13px; color: #1f4e8c; }
  .table-toggle { font: inherit; font-size: 13px; padding: 4px 10px; border: 1px solid #7b8794;
                  border-radius: 4px; background: #fff; color: #1f2933; cursor: pointer; }
  .table-toggle:focus-visible { outline: 3px solid #1f4e8c; outline-offset: 2px; }
  .data-table .scroller { max-height: 60vh; overflow: auto; margin-top: 6px; }
  .data-table .scroller:focus-visible { outline: 3px solid #1f4e8c; }
  .data-table table { border-collapse: collapse; font-size: 13px; background: #fff; }
  .data-table p { font-weight: 600; margin: 4px 0; }
  .data-table th, .data-table td { border: 1px solid #e4e7eb; padding: 2px 8px; }
  .data-table td { font-variant-numeric: tabular-nums; }
  .notes { font-size: 13px; color: #3e4c59; line-height: 1.45; margin-top: 10px; }
  .notes h2 { font-size: 15px; margin: 0 0 4px; }
  .notes p { margin: 0 0 4px; }
  @media (max-width: 600px) {
    .page { padding: 8px 4px 12px; }
    h1 { font-size: 18px; }
    .controls { padding: 6px 8px; gap: 8px 10px; }
    .chart-title { font-size: 14px; }
  }
</style>
</head>
<body>{%app_entry%}<footer>{%config%}{%scripts%}{%renderer%}</footer></body>
</html>"""


def parse_date(value: str | None, default: dt.date) -> dt.date:
    """A date from the date picker (``YYYY-MM-DD`` with an optional time part)."""
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return default


def preset_range(preset: str, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The dates a preset button selects, clamped to the data."""
    if preset == "90d":
        start, end = last - dt.timedelta(days=89), last
    elif preset.isdigit():
        start, end = dt.date(int(preset), 1, 1), dt.date(int(preset), 12, 31)
    else:
        start, end = first, last
    return max(start, first), min(end, last)


def range_from_relayout(
    relayout: dict[str, Any], first: dt.date, last: dt.date
) -> tuple[dt.date, dt.date] | None:
    """The dates a drag-zoom (or a double-click reset) on the chart selects, else ``None``.

    Zooming the chart re-filters the data like the date picker does, so the 7-day average,
    the y axis and the summary always describe exactly the days on screen.
    """
    if relayout.get("xaxis.autorange"):
        return first, last
    low = relayout.get("xaxis.range[0]")
    high = relayout.get("xaxis.range[1]")
    if low is None or high is None:
        pair = relayout.get("xaxis.range")
        if not isinstance(pair, list) or len(pair) != 2:
            return None
        low, high = pair
    try:
        low_at = dt.datetime.fromisoformat(str(low))
        high_at = dt.datetime.fromisoformat(str(high))
    except ValueError:
        return None
    # A day is in view when its bar's centre (midnight) is: round the start up, the end down.
    start = low_at.date() + dt.timedelta(days=0 if low_at.time() == dt.time() else 1)
    end = high_at.date()
    start, end = max(start, first), min(end, last)
    if start > end:
        return None
    return start, end


def aria(**props: str) -> dict[str, Any]:
    """``aria-*`` attributes for a Dash html component: ``aria(label="x")``."""
    return {f"aria-{name}": value for name, value in props.items()}


def ordered(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The range with its ends in order (an end typed before the start is swapped)."""
    return (end, start) if start > end else (start, end)


def render(analysis: Analysis, start: dt.date, end: dt.date, scale: Scale) -> tuple[Any, str]:
    """Figure and summary line for a range; the one function both callbacks and tests use."""
    start, end = ordered(start, end)
    summary = summarise(analysis, select_range(analysis, start, end))
    return build_figure(analysis, start, end, scale), summary.sentence()


def csv_rows(analysis: Analysis, start: dt.date, end: dt.date) -> str:
    """The shown days as CSV: what the chart draws, one line a day."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "cumulative_reported", "new_cases_shown", "kind", "avg7"])
    for day in select_range(analysis, *ordered(start, end)):
        writer.writerow(
            [
                day.date.isoformat(),
                day.cumulative,
                "" if day.new_cases is None else f"{day.new_cases:.2f}".rstrip("0").rstrip("."),
                day.kind,
                "" if day.avg7 is None else f"{day.avg7:.2f}",
            ]
        )
    return out.getvalue()


KIND_LABELS = {
    "reported": "reported",
    "correction": "downward correction (shown as 0)",
    "pause": "spread over a reporting pause",
    "catch_up": "catch-up day, spread over the pause",
    "unreported": "not reported yet",
    "suspect": "suspect: a count the source took back (spread)",
}


def table_rows(analysis: Analysis, start: dt.date, end: dt.date) -> list[tuple[str, ...]]:
    """The shown days as the table shows them: date, bar, 7-day average, cumulative, kind."""
    return [
        (
            f"{day.date:%a %d %b %Y}",
            "" if day.new_cases is None else f"{day.new_cases:,.0f}",
            "" if day.avg7 is None else f"{day.avg7:,.0f}",
            f"{day.cumulative:,}",
            KIND_LABELS[day.kind],
        )
        for day in select_range(analysis, *ordered(start, end))
    ]


def csv_href(start: dt.date, end: dt.date) -> str:
    """The link that downloads the shown range."""
    return f"/data.csv?start={start.isoformat()}&end={end.isoformat()}"


def source_children(shown: Shown, now: dt.datetime) -> list[Any]:
    """The source line: badge, source, data end, the data's age and why this source."""
    from dash import html

    loaded, last = shown.loaded, shown.analysis.last_date
    label: Any = loaded.label
    if loaded.kind == "snapshot":
        label = [
            "bundled snapshot of the ",
            html.A("JHU CSSE COVID-19 Data Repository", href=SNAPSHOT_URL),
            f" ({SNAPSHOT_LICENSE})",
        ]
    age = age_text(loaded.fetched_at, now)
    anomalies, jumps = shown.analysis.anomalies, shown.analysis.jumps
    flagged: list[Any] = []
    found = [
        *(
            [
                f"{len(anomalies)} count(s) the source took back: "
                + "; ".join(a.describe() for a in anomalies)
            ]
            if anomalies
            else []
        ),
        *(
            [
                f"{len(jumps)} implausible jump(s), shown as served: "
                + "; ".join(j.describe() for j in jumps)
            ]
            if jumps
            else []
        ),
    ]
    if found:
        flagged = [" ", html.Strong(f"Suspect data: {'. '.join(found)}.", id="source-suspect")]
    return [
        html.Span(loaded.kind, className=f"badge badge-{loaded.kind}", id="source-badge"),
        " ",
        html.Strong("Source: "),
        html.Span(label, id="source-label"),
        f", data up to {last.day} {last:%b %Y}" + (f", {age}" if age else "") + ". ",
        html.Span(f"Why this source: {loaded.reason}.", id="source-reason"),
        *flagged,
    ]


def create_app(live: LiveData, poll_s: float = 30.0) -> Dash:
    """The Dash app showing ``live``'s current data; open pages poll it every ``poll_s``."""
    from dash import Dash, Input, Output, State, ctx, dcc, html, no_update
    from dash.exceptions import PreventUpdate
    from flask import Response, request

    app = Dash(
        __name__,
        title="COVID-19 cases in Singapore",
        assets_folder=str(Path(__file__).with_name("assets")),
    )
    app.index_string = INDEX

    def layout() -> Any:
        shown = live.current()
        analysis = shown.analysis
        first, last = analysis.first_date, analysis.last_date
        figure, sentence = render(analysis, first, last, "linear")
        return html.Div(
            className="page",
            children=[
                html.H1("COVID-19 cases in Singapore"),
                html.P(
                    className="source",
                    id="source",
                    children=source_children(shown, dt.datetime.now(dt.UTC)),
                ),
                html.Div(
                    className="controls",
                    children=[
                        html.Div(
                            [
                                html.Label(
                                    "Dates", className="group", htmlFor="range", id="range-label"
                                ),
                                dcc.DatePickerRange(
                                    id="range",
                                    min_date_allowed=first.isoformat(),
                                    max_date_allowed=last.isoformat(),
                                    start_date=first.isoformat(),
                                    end_date=last.isoformat(),
                                    display_format="D MMM YYYY",
                                    minimum_nights=0,
                                    start_date_placeholder_text="Start date",
                                    end_date_placeholder_text="End date",
                                ),
                            ]
                        ),
                        html.Div(
                            className="presets",
                            role="group",
                            **aria(label="Preset ranges"),
                            children=[
                                html.Button(
                                    label,
                                    id=f"preset-{key}",
                                    n_clicks=0,
                                    className="active" if key == "all" else "",
                                    **aria(pressed="true" if key == "all" else "false"),
                                )
                                for key, label in PRESETS
                            ],
                        ),
                        html.Div(
                            className="scale presets",
                            role="group",
                            **aria(labelledby="scale-label"),
                            children=[
                                html.Span("Scale", className="group", id="scale-label"),
                                *(
                                    html.Button(
                                        label,
                                        id=f"scale-{key}",
                                        n_clicks=0,
                                        className="active" if key == "linear" else "",
                                        **aria(pressed="true" if key == "linear" else "false"),
                                    )
                                    for key, label in SCALES
                                ),
                            ],
                        ),
                    ],
                ),
                html.P(sentence, className="summary", id="summary", **aria(live="polite")),
                html.H2(
                    figure["layout"]["meta"]["title"], className="chart-title", id="chart-title"
                ),
                dcc.Store(id="zoom"),
                dcc.Store(id="scale", data="linear"),
                dcc.Store(id="data-version", data=shown.version),
                dcc.Interval(id="poll", interval=int(poll_s * 1000)),
                html.Div(
                    className="chart",
                    role="figure",
                    **aria(labelledby="chart-title", describedby="summary"),
                    children=dcc.Graph(
                        id=GRAPH_ID,
                        figure=figure,
                        responsive=True,
                        style={"height": "max(440px, calc(100vh - 235px))"},
                        config={
                            "displaylogo": False,
                            "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                        },
                    ),
                ),
                html.Div(
                    className="data-links",
                    children=[
                        html.Button(
                            "Show the values as a table",
                            id="table-toggle",
                            className="table-toggle",
                            n_clicks=0,
                            **aria(expanded="false", controls="data-table"),
                        ),
                        html.A(
                            "Download the shown days as CSV",
                            id="download",
                            className="download",
                            href=csv_href(first, last),
                            download="covid-singapore.csv",
                        ),
                    ],
                ),
                html.Div(id="data-table", className="data-table"),
                html.Div(
                    className="notes",
                    children=[
                        html.H2("How to read the chart"),
                        html.P(
                            "Daily new cases are the day-on-day change of the cumulative count. "
                            "When the count stays flat for days and then jumps, the source "
                            "paused reporting: the catch-up is spread evenly over the paused "
                            "days and drawn as hatched orange bars on an orange band (hover "
                            "shows the reported number). A flat run at the end of the data is a "
                            "grey band: not reported, not zero."
                        ),
                        html.P(
                            "If the cumulative count ever goes down (a downward correction by "
                            "the source), that day shows 0 new cases and a red marker on the "
                            "cumulative panel; negative bars are never drawn. A count the source "
                            "served and then took back (a typo such as a 10x spike) is flagged "
                            "as suspect: purple bars on a purple band spread the honest change, "
                            "and a purple cross marks the served value. The 7-day average is "
                            "the mean of the bars of that day and the 6 before it; the summary's "
                            "new cases are the cumulative difference over the range."
                        ),
                    ],
                ),
            ],
        )

    app.layout = layout

    def data_csv() -> Response:
        analysis = live.current().analysis
        first, last = analysis.first_date, analysis.last_date
        start = parse_date(request.args.get("start"), first)
        end = parse_date(request.args.get("end"), last)
        return Response(
            csv_rows(analysis, start, end),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment; filename=covid-singapore.csv"},
        )

    app.server.add_url_rule("/data.csv", view_func=data_csv)

    @app.callback(
        Output("data-version", "data"),
        Output("source", "children"),
        Output("range", "min_date_allowed"),
        Output("range", "max_date_allowed"),
        Output("range", "start_date", allow_duplicate=True),
        Output("range", "end_date", allow_duplicate=True),
        Input("poll", "n_intervals"),
        State("data-version", "data"),
        State("range", "min_date_allowed"),
        State("range", "max_date_allowed"),
        State("range", "start_date"),
        State("range", "end_date"),
        prevent_initial_call=True,
    )
    def poll(
        _n: int,
        version: int | None,
        old_first: str | None,
        old_last: str | None,
        start: str | None,
        end: str | None,
    ) -> tuple[Any, ...]:
        shown = live.current()
        first, last = shown.analysis.first_date, shown.analysis.last_date
        children = source_children(shown, dt.datetime.now(dt.UTC))
        if version == shown.version:
            return no_update, children, no_update, no_update, no_update, no_update
        # New data: a range that showed all the old data (or no longer fits) shows all the new.
        low, high = ordered(parse_date(start, first), parse_date(end, last))
        whole_old = (start, end) == (old_first, old_last)
        if whole_old or low < first or high > last:
            chosen: tuple[Any, Any] = (first.isoformat(), last.isoformat())
        else:
            chosen = (no_update, no_update)
        return shown.version, children, first.isoformat(), last.isoformat(), *chosen

    @app.callback(
        Output("range", "start_date"),
        Output("range", "end_date"),
        Input("zoom", "data"),
        Input("range", "start_date"),
        Input("range", "end_date"),
        *(Input(f"preset-{key}", "n_clicks") for key, _ in PRESETS),
        prevent_initial_call=True,
    )
    def pick_range(
        zoom: dict[str, Any] | None, start: str | None, end: str | None, *_clicks: int
    ) -> tuple[str, str]:
        # Several inputs can fire in one request (a click during the first autosize event):
        # a button press wins over a zoom; a typed end before the start is swapped in place.
        analysis = live.current().analysis
        first, last = analysis.first_date, analysis.last_date
        triggered = [str(prop).split(".")[0] for prop in ctx.triggered_prop_ids]
        presets = [t for t in triggered if t.startswith("preset-")]
        if presets:
            chosen = preset_range(presets[0].removeprefix("preset-"), first, last)
        elif "zoom" in triggered:
            picked = range_from_relayout(zoom or {}, first, last)
            if picked is None:
                raise PreventUpdate
            chosen = picked
        else:
            low, high = parse_date(start, first), parse_date(end, last)
            if low <= high:
                raise PreventUpdate
            chosen = (high, low)
        return chosen[0].isoformat(), chosen[1].isoformat()

    @app.callback(
        Output("scale", "data"),
        *(Output(f"scale-{key}", "className") for key, _ in SCALES),
        *(Output(f"scale-{key}", "aria-pressed") for key, _ in SCALES),
        *(Input(f"scale-{key}", "n_clicks") for key, _ in SCALES),
        prevent_initial_call=True,
    )
    def pick_scale(*_clicks: int) -> tuple[str, ...]:
        chosen = "log" if ctx.triggered_id == "scale-log" else "linear"
        keys = [key for key, _ in SCALES]
        return (
            chosen,
            *("active" if key == chosen else "" for key in keys),
            *("true" if key == chosen else "false" for key in keys),
        )

    @app.callback(
        Output("data-table", "children"),
        Output("table-toggle", "aria-expanded"),
        Output("table-toggle", "children"),
        Input("table-toggle", "n_clicks"),
        Input("range", "start_date"),
        Input("range", "end_date"),
        Input("data-version", "data"),
        prevent_initial_call=True,
    )
    def data_table(clicks: int, start: str | None, end: str | None, _v: int) -> tuple[Any, ...]:
        # The hover's values for keyboard and screen-reader users; built only while shown.
        if not clicks or clicks % 2 == 0:
            return [], "false", "Show the values as a table"
        analysis = live.current().analysis
        low, high = ordered(
            parse_date(start, analysis.first_date), parse_date(end, analysis.last_date)
        )
        # Markdown, not html.Table: a table of 1,143 rows as Dash components takes the
        # renderer tens of seconds; as one Markdown string it is a single component.
        head = ["Date", "New cases (bar)", "7-day average", "Cumulative (reported)", "Kind"]
        lines = [
            f"Daily values, {low:%d %b %Y} to {high:%d %b %Y}",
            "",
            "| " + " | ".join(head) + " |",
            "| --- | ---: | ---: | ---: | --- |",
            *("| " + " | ".join(row) + " |" for row in table_rows(analysis, low, high)),
        ]
        scroller = html.Div(
            dcc.Markdown("\n".join(lines)),
            className="scroller",
            role="region",
            tabIndex="0",
            **aria(label="Daily values of the shown days"),
        )
        return scroller, "true", "Hide the table"

    # Only x-axis zooms reach the server; resize and legend events stay in the browser.
    app.clientside_callback(  # type: ignore[no-untyped-call]
        """function (relayout) {
            if (relayout && (relayout['xaxis.autorange'] || relayout['xaxis.range']
                    || relayout['xaxis.range[0]'] !== undefined)) {
                return relayout;
            }
            return window.dash_clientside.no_update;
        }""",
        Output("zoom", "data"),
        Input(GRAPH_ID, "relayoutData"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output(GRAPH_ID, "figure"),
        Output("summary", "children"),
        Output("chart-title", "children"),
        Output("download", "href"),
        *(Output(f"preset-{key}", "className") for key, _ in PRESETS),
        *(Output(f"preset-{key}", "aria-pressed") for key, _ in PRESETS),
        Input("range", "start_date"),
        Input("range", "end_date"),
        Input("scale", "data"),
        Input("data-version", "data"),
        prevent_initial_call=True,
    )
    def update(start: str | None, end: str | None, scale: str, _version: int) -> tuple[Any, ...]:
        analysis = live.current().analysis
        first, last = analysis.first_date, analysis.last_date
        chosen: Scale = "log" if scale == "log" else "linear"
        low, high = ordered(parse_date(start, first), parse_date(end, last))
        figure, sentence = render(analysis, low, high, chosen)
        active = [preset_range(key, first, last) == (low, high) for key, _ in PRESETS]
        return (
            figure,
            sentence,
            figure["layout"]["meta"]["title"],
            csv_href(low, high),
            *("active" if on else "" for on in active),
            *("true" if on else "false" for on in active),
        )

    return app
