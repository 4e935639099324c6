"""`shopdata covid` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="COVID-19 Singapore dashboard: fetch data and serve the chart.", no_args_is_help=True
)
