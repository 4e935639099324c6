"""`shopdata members` commands: wiring between settings, the CLI and the pipeline."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shopdata.errors import EXIT_FAILURE, EXIT_INTERNAL, EXIT_LOCKED, EXIT_USAGE, fail

if TYPE_CHECKING:
    from shopdata.members.report import RunDocument

app = typer.Typer(
    help="Membership applications pipeline: validate, issue IDs, deliver.", no_args_is_help=True
)

EXIT_ATTENTION = EXIT_FAILURE  # the run finished, but some files went to quarantine

LandingOption = typer.Option(
    None, "--landing", help="Folder the CSVs land in. [default: settings members.landing_dir]"
)
OutputOption = typer.Option(
    None, "--output", help="Root of the outputs. [default: settings members.output_dir]"
)
ReferenceOption = typer.Option(
    None,
    "--reference-date",
    formats=["%Y-%m-%d"],
    help="Date on which applicants must be 18. [default: settings, 2022-01-01]",
)


def _run_once(
    landing: Path,
    output: Path,
    reference_date: dt.date | None,
    quiet: bool,
    as_json: bool,
    settle_seconds: float | None = None,
) -> int:
    """One run: its exit code (0, or 1 when files went to quarantine); else :func:`fail`."""
    from rich.console import Console
    from rich.markup import escape

    from shopdata.config import get_settings
    from shopdata.members.pipeline import RuleConfig, RunOptions, run_pipeline
    from shopdata.members.preflight import describe_failure, usage_problem
    from shopdata.members.state import LockBusy

    settings = get_settings().members
    rules = RuleConfig(
        reference_date=reference_date or settings.reference_date,
        minimum_age=settings.minimum_age,
        email_suffixes=settings.email_domain_suffixes,
    )
    err = Console(stderr=True)

    def progress(index: int, total: int, name: str) -> None:
        if not quiet:
            err.print(f"[{index}/{total}] reading {escape(name)}", highlight=False)

    problem = usage_problem(landing, output)
    if problem:
        fail(problem, EXIT_USAGE)
    options = RunOptions(
        settle_seconds=settings.settle_seconds if settle_seconds is None else settle_seconds,
        archive_watch_seconds=settings.archive_watch_seconds,
        file_mode=settings.file_mode,
        dir_mode=settings.dir_mode,
        batch_rows=settings.batch_rows,
        piece_bytes=settings.read_piece_bytes,
    )
    try:
        report = run_pipeline(landing, output, rules, options=options, progress=progress)
    except LockBusy as busy:
        fail(f"{busy}; nothing was done", EXIT_LOCKED)
    except Exception as exc:  # one line, not a traceback; the next run recovers what this one left
        fail(f"internal error: {describe_failure(exc)}", EXIT_INTERNAL)
    if as_json:
        typer.echo(json.dumps(report.document.to_json(), indent=2, ensure_ascii=False))
    elif not quiet:
        _print_summary(report.document)
    return EXIT_ATTENTION if report.files_needing_attention else 0


def _print_summary(document: RunDocument) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    for recovered in document.recovered_runs:
        console.print(f"Recovered run {recovered.run_id}: {recovered.action}")
    totals = document.totals
    if not totals.files:
        console.print("No files in the landing folder; nothing to do.")
        return
    console.print(f"Run {document.run_id} in {document.duration_seconds} s")
    table = Table("file", "status", "rows", "successful", "unsuccessful", "note")

    def cell(value: int | None) -> str:
        return "" if value is None else str(value)

    for entry in document.files_detail:
        table.add_row(  # names and quoted headers come from the landing folder: never markup
            escape(entry.name),
            entry.status,
            cell(entry.rows),
            cell(entry.successful),
            cell(entry.unsuccessful),
            escape(entry.error or ""),
        )
    console.print(table)
    console.print(
        f"{totals.rows_in} applications: {totals.successful} successful, "
        f"{totals.unsuccessful} unsuccessful ({totals.duplicate_applications} duplicates)"
    )
    for reason, count in document.unsuccessful_by_reason.items():
        console.print(f"  {reason}: {count}")
    if document.outputs is not None:
        for kind, path in document.outputs:
            console.print(f"{kind}: {Path(document.output or '') / path}", soft_wrap=True)


@app.command("run")
def run(
    landing: Path | None = LandingOption,
    output: Path | None = OutputOption,
    reference_date: dt.datetime | None = ReferenceOption,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing on success."),
    as_json: bool = typer.Option(False, "--json", help="Print the run report as JSON."),
    settle_seconds: float | None = typer.Option(
        None,
        "--settle-seconds",
        min=0,
        help="Leave files modified less than this long ago for a later run. [default: settings, 5]",
    ),
) -> None:
    """Process every file in the landing folder now.

    Exit codes: 0 all processed; 1 some quarantined; 2 usage error; 3 lock busy; 4 internal error.
    """
    from shopdata.config import get_settings

    settings = get_settings().members
    code = _run_once(
        landing or settings.landing_dir,
        output or settings.output_dir,
        reference_date.date() if reference_date else None,
        quiet,
        as_json,
        settle_seconds,
    )
    raise typer.Exit(code)
