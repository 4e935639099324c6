"""`shopdata members` commands: wiring between settings, the CLI and the pipeline."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path

import typer

app = typer.Typer(
    help="Membership applications pipeline: validate, issue IDs, deliver.", no_args_is_help=True
)

EXIT_ATTENTION = 1  # the run finished, but some files went to quarantine
EXIT_USAGE = 2  # bad arguments, or a landing folder that does not exist
EXIT_LOCKED = 3  # another run holds the lock; nothing was done
EXIT_INTERNAL = 4  # the run crashed (a bug, a full disk, ...); the next run recovers

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
        typer.echo(f"Error: {problem}", err=True)
        return EXIT_USAGE
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
        typer.echo(f"Error: {busy}; nothing was done", err=True)
        return EXIT_LOCKED
    except Exception as exc:  # one line, not a traceback; the next run recovers what this one left
        typer.echo(f"Error: internal error: {describe_failure(exc)}", err=True)
        return EXIT_INTERNAL
    if as_json:
        typer.echo(json.dumps(report.document, indent=2, ensure_ascii=False))
    elif not quiet:
        _print_summary(report.document)
    return EXIT_ATTENTION if report.files_needing_attention else 0


def _print_summary(document: dict[str, object]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    for recovered in document.get("recovered_runs", []):  # type: ignore[attr-defined]
        console.print(f"Recovered run {recovered['run_id']}: {recovered['action']}")
    totals = document.get("totals", {})
    assert isinstance(totals, dict)
    if not totals.get("files"):
        console.print("No files in the landing folder; nothing to do.")
        return
    console.print(f"Run {document['run_id']} in {document['duration_seconds']} s")
    table = Table("file", "status", "rows", "successful", "unsuccessful", "note")
    for entry in document["files_detail"]:  # type: ignore[attr-defined]
        table.add_row(  # names and quoted headers come from the landing folder: never markup
            escape(entry["name"]),
            entry["status"],
            str(entry.get("rows", "")),
            str(entry.get("successful", "")),
            str(entry.get("unsuccessful", "")),
            escape(entry.get("error", "")),
        )
    console.print(table)
    console.print(
        f"{totals['rows_in']} applications: {totals['successful']} successful, "
        f"{totals['unsuccessful']} unsuccessful ({totals['duplicate_applications']} duplicates)"
    )
    by_reason = document.get("unsuccessful_by_reason", {})
    assert isinstance(by_reason, dict)
    for reason, count in by_reason.items():
        console.print(f"  {reason}: {count}")
    outputs = document["outputs"]
    assert isinstance(outputs, dict)
    for kind, path in outputs.items():
        console.print(f"{kind}: {Path(str(document['output'])) / path}", soft_wrap=True)


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


@app.command("schedule")
def schedule(
    landing: Path | None = LandingOption,
    output: Path | None = OutputOption,
    minute: int | None = typer.Option(
        None, "--minute", min=0, max=59, help="Minute past the hour. [default: settings, 0]"
    ),
    every: int | None = typer.Option(
        None, "--every", min=1, help="Minutes between runs. [default: settings, 60]"
    ),
    run_now: bool = typer.Option(
        False, "--run-now", help="Run once immediately, then on schedule."
    ),
    max_runs: int | None = typer.Option(None, "--max-runs", min=1, help="Stop after N runs."),
) -> None:
    """Run the pipeline at the top of every hour (or as configured), logging each run.

    A failing run is logged and the schedule continues; a run that found the lock busy is logged
    as a warning.
    """
    from shopdata.config import get_settings
    from shopdata.members.schedule import run_forever

    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    log = logging.getLogger("shopdata.members.schedule")
    settings = get_settings().members
    landing_dir = landing or settings.landing_dir
    output_dir = output or settings.output_dir

    def job() -> None:
        code = _run_once(landing_dir, output_dir, None, quiet=True, as_json=False)
        if code == EXIT_LOCKED:
            log.warning("run skipped: another run holds the lock (exit code %d)", code)
        elif code >= EXIT_USAGE:
            log.error("run failed with exit code %d", code)
        else:
            log.info("run finished with exit code %d", code)

    runs = run_forever(
        job,
        minute=settings.schedule_minute if minute is None else minute,
        interval_minutes=every or settings.schedule_interval_minutes,
        run_now=run_now,
        max_runs=max_runs,
    )
    log.info("stopping after %d run(s)", runs)
