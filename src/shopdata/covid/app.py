"""The Dash page: source banner, range and scale controls, the chart, and how to read it.

Why Dash: the chart is Plotly (hover, zoom, log axes, SVG export for free) and Dash serves it from
the same Python process that owns the data layer, with no JavaScript build step. The whole
series (~1,100 days) is analysed once at start-up; a range or scale change only slices it and
rebuilds a plain figure dict, so the server answers in ~10 ms and the browser's redraw is the
rest of the 200 ms budget (measured in ``bench/bench_covid.py``, recorded in docs/covid.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopdata.covid.figure import Scale, build_figure, summarise
from shopdata.covid.snapshot import SNAPSHOT_LICENSE, SNAPSHOT_URL
from shopdata.covid.sources import LoadedSeries
from shopdata.covid.transform import Analysis, select_range

if TYPE_CHECKING:
    from dash import Dash

GRAPH_ID = "cases-graph"

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
  .page { max-width: 1500px; margin: 0 auto; padding: 10px 18px 16px; }
  h1 { font-size: 21px; margin: 0 0 4px; }
  .source { font-size: 13px; color: #52606d; margin: 0 0 8px; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600;
           font-size: 12px; margin-right: 2px; color: #fff; }
  .badge-live { background: #2f855a; } .badge-cache { background: #2b6cb0; }
  .badge-snapshot { background: #b7791f; }
  .controls { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 18px;
              background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; padding: 6px 12px; }
  .controls label.group { font-size: 13px; font-weight: 600; color: #3e4c59; margin-right: 6px; }
  .presets button { font: inherit; font-size: 13px; padding: 4px 10px; margin-right: 4px;
                    border: 1px solid #cbd2d9; border-radius: 4px; background: #fff;
                    cursor: pointer; }
  .presets button:hover { background: #e6f0fa; border-color: #4c78a8; }
  .scale label { font-size: 13px; margin-right: 10px; }
  .summary { font-size: 13px; color: #3e4c59; margin: 6px 2px 0; }
  .chart { background: #fff; border: 1px solid #e4e7eb; border-radius: 6px; margin-top: 6px; }
  .notes { font-size: 13px; color: #3e4c59; line-height: 1.45; margin-top: 10px; }
  .notes h2 { font-size: 15px; margin: 0 0 4px; }
  .notes p { margin: 0 0 4px; }
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


def render(analysis: Analysis, start: dt.date, end: dt.date, scale: Scale) -> tuple[Any, str]:
    """Figure and summary line for a range; the one function both callbacks and tests use."""
    if start > end:
        start, end = end, start
    summary = summarise(analysis, select_range(analysis, start, end))
    return build_figure(analysis, start, end, scale), summary.sentence()


def create_app(loaded: LoadedSeries, analysis: Analysis) -> Dash:
    """The Dash app for an already loaded and analysed series."""
    from dash import Dash, Input, Output, ctx, dcc, html
    from dash.exceptions import PreventUpdate

    first, last = analysis.first_date, analysis.last_date
    app = Dash(
        __name__,
        title="COVID-19 cases in Singapore",
        assets_folder=str(Path(__file__).with_name("assets")),
    )
    app.index_string = INDEX
    figure, sentence = render(analysis, first, last, "linear")
    label: Any = loaded.label
    if loaded.kind == "snapshot":
        label = [
            "bundled snapshot of the ",
            html.A("JHU CSSE COVID-19 Data Repository", href=SNAPSHOT_URL),
            f" ({SNAPSHOT_LICENSE})",
        ]
    app.layout = html.Div(
        className="page",
        children=[
            html.H1("COVID-19 cases in Singapore"),
            html.P(
                className="source",
                id="source",
                children=[
                    html.Span(loaded.kind, className=f"badge badge-{loaded.kind}"),
                    " ",
                    html.Strong("Source: "),
                    html.Span(label, id="source-label"),
                    f", data up to {last.day} {last:%b %Y}. ",
                    html.Span(f"Why this source: {loaded.reason}.", id="source-reason"),
                ],
            ),
            html.Div(
                className="controls",
                children=[
                    html.Div(
                        [
                            html.Label("Dates", className="group", htmlFor="range"),
                            dcc.DatePickerRange(
                                id="range",
                                min_date_allowed=first.isoformat(),
                                max_date_allowed=last.isoformat(),
                                start_date=first.isoformat(),
                                end_date=last.isoformat(),
                                initial_visible_month=last.isoformat(),
                                display_format="D MMM YYYY",
                                minimum_nights=0,
                            ),
                        ]
                    ),
                    html.Div(
                        className="presets",
                        children=[
                            html.Button(label, id=f"preset-{key}", n_clicks=0)
                            for key, label in PRESETS
                        ],
                    ),
                    html.Div(
                        className="scale",
                        children=[
                            html.Label("Scale", className="group"),
                            dcc.RadioItems(
                                id="scale",
                                options=[
                                    {"label": "Linear", "value": "linear"},
                                    {"label": "Log", "value": "log"},
                                ],
                                value="linear",
                                inline=True,
                            ),
                        ],
                        style={"display": "flex", "alignItems": "center"},
                    ),
                ],
            ),
            html.P(sentence, className="summary", id="summary"),
            dcc.Store(id="zoom"),
            html.Div(
                className="chart",
                children=dcc.Graph(
                    id=GRAPH_ID,
                    figure=figure,
                    responsive=True,
                    style={"height": "max(440px, calc(100vh - 215px))"},
                    config={
                        "displaylogo": False,
                        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                    },
                ),
            ),
            html.Div(
                className="notes",
                children=[
                    html.H2("How to read the chart"),
                    html.P(
                        "Daily new cases are the day-on-day change of the cumulative count. When "
                        "the count stays flat for days and then jumps, the source paused "
                        "reporting: the catch-up is spread evenly over the paused days and drawn "
                        "as hatched orange bars on an orange band (hover shows the reported "
                        "number). A flat run at the end of the data is a grey band: not reported, "
                        "not zero."
                    ),
                    html.P(
                        "If the cumulative count ever goes down (a downward correction by the "
                        "source), that day shows 0 new cases and a red marker on the cumulative "
                        "panel; negative bars are never drawn. The 7-day average is the mean of "
                        "the bars of that day and the 6 before it."
                    ),
                ],
            ),
        ],
    )

    @app.callback(
        Output("range", "start_date"),
        Output("range", "end_date"),
        Input("zoom", "data"),
        *(Input(f"preset-{key}", "n_clicks") for key, _ in PRESETS),
        prevent_initial_call=True,
    )
    def pick_range(zoom: dict[str, Any] | None, *_clicks: int) -> tuple[str, str]:
        # Several inputs can fire in one request (a click during the first autosize event):
        # a button press wins over a zoom.
        triggered = [str(prop).split(".")[0] for prop in ctx.triggered_prop_ids]
        presets = [t for t in triggered if t.startswith("preset-")]
        if presets:
            start, end = preset_range(presets[0].removeprefix("preset-"), first, last)
        else:
            picked = range_from_relayout(zoom or {}, first, last)
            if picked is None:
                raise PreventUpdate
            start, end = picked
        return start.isoformat(), end.isoformat()

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
        Input("range", "start_date"),
        Input("range", "end_date"),
        Input("scale", "value"),
        prevent_initial_call=True,
    )
    def update(start: str | None, end: str | None, scale: str) -> tuple[Any, str]:
        chosen: Scale = "log" if scale == "log" else "linear"
        return render(analysis, parse_date(start, first), parse_date(end, last), chosen)

    return app
