"""The ``shopdata`` command: one sub-command group per component.

Each component owns its commands in ``shopdata/<component>/cli.py``; this module only wires them
together. A component's module is imported only when its group is used (or listed, as by
``shopdata --help``): `shopdata carprice predict` starts without loading the other components'
command modules. Heavy libraries are imported inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup
from typer.main import get_group_from_info
from typer.models import TyperInfo

from shopdata import __version__
from shopdata.errors import EXIT_USAGE, SettingsError, fail

# sub-command group -> module whose ``app`` holds its commands, in the order --help lists them
COMPONENTS = {
    "members": "shopdata.members.cli",
    "db": "shopdata.salesdb.cli",
    "covid": "shopdata.covid.cli",
    "carprice": "shopdata.carprice.cli",
}


def _component_group(name: str) -> TyperGroup:
    """The Click group of one component, built as ``app.add_typer(component_app, name=name)``."""
    component: typer.Typer = importlib.import_module(COMPONENTS[name]).app
    return get_group_from_info(
        TyperInfo(component, name=name),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
        suggest_commands=app.suggest_commands,
    )


class LazyGroup(TyperGroup):
    """The root group: each component's group is built the first time it is asked for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._built: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def commands(self) -> dict[str, Any]:
        """Every command, each component loaded (for --help and the CLI reference)."""
        for name in COMPONENTS:
            self._load(name)
        return self._built

    @commands.setter
    def commands(self, value: dict[str, Any]) -> None:
        self._built.update(value)

    def _load(self, name: str) -> None:
        if name in COMPONENTS and name not in self._built:
            self._built[name] = _component_group(name)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """Only the component named on the command line is imported."""
        self._load(cmd_name)
        return self._built.get(cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        """The components in their --help order."""
        return list(self.commands)

    def invoke(self, ctx: Any) -> Any:
        """Run the command; an invalid setting, whoever read it, is one line and exit code 2."""
        try:
            return super().invoke(ctx)
        except SettingsError as error:
            fail(str(error), EXIT_USAGE)


app = typer.Typer(
    name="shopdata",
    cls=LazyGroup,
    help="Data platform of the shop: membership pipeline, sales database, dashboards, models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


@app.command("orchestrate")
def orchestrate(
    host: str | None = typer.Option(
        None, "--host", help="Address of the UI. [default: settings orchestration.host, 127.0.0.1]"
    ),
    port: int | None = typer.Option(
        None,
        "--port",
        min=1,
        max=65535,
        help="Port of the UI. [default: settings orchestration.port, 3000]",
    ),
) -> None:
    """Start the Dagster UI and daemon (assets, schedules, sensors, checks, run history).

    DAGSTER_HOME is settings orchestration.dagster_home (var/dagster); the embedded PostgreSQL is
    started first if DATABASE_URL is unset. Stops with Ctrl-C. See docs/orchestration.md.
    """
    from shopdata.config import get_settings
    from shopdata.orchestration.serve import serve

    settings = get_settings()
    o = settings.orchestration
    raise typer.Exit(serve(settings, host or o.host, port or o.port))


if __name__ == "__main__":  # pragma: no cover
    app()
