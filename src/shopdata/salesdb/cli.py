"""`shopdata db` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Sales database: embedded PostgreSQL, loading and analyst queries.", no_args_is_help=True
)
