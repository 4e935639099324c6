"""`shopdata members` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Membership applications pipeline: validate, issue IDs, deliver.", no_args_is_help=True
)
