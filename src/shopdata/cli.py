"""The ``shopdata`` command: one sub-command group per component.

Each component owns its commands in ``shopdata/<component>/cli.py``; this module only wires them
together. Heavy libraries are imported inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import typer

from shopdata import __version__
from shopdata.carprice.cli import app as carprice_app
from shopdata.covid.cli import app as covid_app
from shopdata.members.cli import app as members_app
from shopdata.salesdb.cli import app as db_app

app = typer.Typer(
    name="shopdata",
    help="Data platform of the shop: membership pipeline, sales database, dashboards, models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(members_app, name="members")
app.add_typer(db_app, name="db")
app.add_typer(covid_app, name="covid")
app.add_typer(carprice_app, name="carprice")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"shopdata {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Data platform of the shop: membership pipeline, sales database, dashboards, models."""


if __name__ == "__main__":  # pragma: no cover
    app()
