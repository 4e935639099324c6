"""`shopdata carprice` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Car buying-price model: train, evaluate, predict.", no_args_is_help=True)
