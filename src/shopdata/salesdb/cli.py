"""`shopdata db` commands: wiring between settings, the CLI and the sales database modules.

Errors are reported as every command reports them (:mod:`shopdata.errors`): one line on stderr
starting with ``Error:``; exit code 1 for bad data or an unreachable server, 2 for bad arguments.
Heavy imports stay inside the commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shopdata.errors import EXIT_USAGE, database_problem, fail, first_line

if TYPE_CHECKING:
    from shopdata.salesdb.queries import QueryResult
    from shopdata.salesdb.runtime import Target

app = typer.Typer(
    help="Sales database: embedded PostgreSQL, loading and analyst queries.", no_args_is_help=True
)
query_app = typer.Typer(
    help="Answer an analyst question and print it: top-members and top-items live from the "
    "summaries (sql/analyst/), the others from the dbt marts as of the last "
    "`shopdata db refresh-analytics` (shopdata/analytics/project/questions/, docs/analytics.md).",
    no_args_is_help=True,
)
app.add_typer(query_app, name="query")


@contextmanager
def _errors() -> Iterator[None]:
    """Turn the database's expected failures into :func:`~shopdata.errors.fail`."""
    import psycopg

    from shopdata.salesdb.server import DatabaseError

    try:
        yield
    except DatabaseError as error:
        fail(str(error))
    except psycopg.OperationalError as error:
        fail(database_problem(error))
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as error:
        fail(
            f"the database has no sales schema ({first_line(error)}): "
            "`shopdata db up` creates it; nothing was changed"
        )
    except psycopg.Error as error:
        fail(f"the database refused: {first_line(error)}; nothing was changed")
    except OSError as error:
        fail(f"{error.filename}: {error.strerror}" if error.filename else str(error))


def _target() -> Target:
    from shopdata.config import get_settings
    from shopdata.salesdb.runtime import target

    settings = get_settings()
    return target(settings.database_url, settings.db)


@app.command()
def up() -> None:
    """Start the embedded PostgreSQL 18 (if needed) and create the database from
    shopdata/salesdb/sql/initdb."""
    from shopdata.salesdb.runtime import bring_up
    from shopdata.salesdb.server import redact

    with _errors():
        tgt = _target()
        report = bring_up(tgt)
    state = "started" if report.started else "already running"
    if tgt.embedded is None:
        state = "reachable"
    schema = (
        "schema created from shopdata/salesdb/sql/initdb"
        if report.schema_applied
        else "schema present"
    )
    typer.echo(f"{tgt.description}: {state}; {schema}; {redact(report.url)}")


@app.command()
def url(
    with_password: bool = typer.Option(
        False,
        "--with-password",
        help="Embedded server: put the superuser password itself in the URL (for tools that "
        "cannot read libpq's passfile). Anyone who sees the output can log in as superuser.",
    ),
) -> None:
    """Print the URL of the sales database (for psql, DATABASE_URL, other tools).

    For the embedded server the URL names the 0600 password file (passfile=...), not the
    password: psql "$(shopdata db url)" works for you, and for no other OS user.
    """
    from shopdata.salesdb.runtime import url_with_password

    with _errors():
        tgt = _target()
        typer.echo(url_with_password(tgt) if with_password else tgt.url())


@app.command()
def down() -> None:
    """Stop the embedded server (its data stays in db.data_dir)."""
    with _errors():
        tgt = _target()
        if tgt.embedded is None:
            typer.echo("DATABASE_URL is set: that server is not managed here; nothing stopped")
            return
        stopped = tgt.embedded.stop()
    typer.echo(f"{tgt.description}: stopped" if stopped else f"{tgt.description}: was not running")


@app.command()
def reset(
    yes: bool = typer.Option(False, "--yes", help="Confirm: all sales data is deleted."),
) -> None:
    """Drop the sales database and build it again from shopdata/salesdb/sql/initdb
    (asks for --yes)."""
    from shopdata.salesdb.runtime import reset as reset_database
    from shopdata.salesdb.server import redact

    with _errors():
        if not yes:
            fail("reset deletes every row of the sales database; run again with --yes", EXIT_USAGE)
        tgt = _target()
        new_url = reset_database(tgt)
    typer.echo(f"{tgt.description}: database {tgt.database} rebuilt; {redact(new_url)}")


def _print_result(result: QueryResult, as_csv: bool, title: str) -> None:
    if as_csv:
        import csv
        import sys

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(result.rows)
        return
    from decimal import Decimal

    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    numeric = [
        bool(result.rows) and all(isinstance(row[i], int | Decimal) for row in result.rows)
        for i in range(len(result.columns))
    ]
    for name, is_number in zip(result.columns, numeric, strict=True):
        table.add_column(name, justify="right" if is_number else "left")
    for row in result.rows:
        table.add_row(*(str(v) for v in row))
    Console(width=160).print(table)


def _query_command(name: str, title: str) -> Callable[..., None]:
    def command(
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of a table."),
    ) -> None:
        from shopdata.salesdb.queries import run_analyst_query

        with _errors():
            result = run_analyst_query(_target().url(), name)
        _print_result(result, as_csv, title)

    command.__doc__ = title
    return command


query_app.command("top-members")(
    _query_command("top-members", "Top 10 members by spending (not cancelled; ties included)")
)
query_app.command("top-items")(
    _query_command("top-items", "Top 3 items by number of purchases (not cancelled; ties included)")
)


def _catalogue_command(name: str, title: str) -> Callable[..., None]:
    def command(
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV instead of a table."),
    ) -> None:
        import psycopg

        from shopdata.analytics.catalogue import run_question

        with _errors():
            try:
                result = run_question(_target().url(), name)
            except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName) as error:
                fail(
                    f"the analytics marts are not built ({error.diag.message_primary}): "
                    "run `shopdata db refresh-analytics` first"
                )
        _print_result(result, as_csv, title)

    command.__doc__ = title
    return command


def _register_catalogue() -> None:
    """Every question of analytics/project/questions/ as `shopdata db query NAME`; top-members and
    top-items keep their live answers from the trigger-kept summaries (above)."""
    from shopdata.analytics.catalogue import question_files, title

    for name, path in question_files().items():
        if name not in {"top-members", "top-items"}:
            query_app.command(name)(_catalogue_command(name, title(path)))


_register_catalogue()


@app.command("refresh-analytics")
def refresh_analytics(
    full_refresh: bool = typer.Option(
        False, "--full-refresh", help="Rebuild the incremental marts from scratch."
    ),
    skip_tests: bool = typer.Option(False, "--skip-tests", help="dbt run instead of dbt build."),
) -> None:
    """Refresh the analytics marts: `dbt build` of the dbt project as the role analytics_refresh."""
    from shopdata.analytics.dbt import DbtError, run_dbt

    args = ["run" if skip_tests else "build"] + (["--full-refresh"] if full_refresh else [])
    with _errors():
        try:
            output = run_dbt(_target().url(), args)
        except DbtError as error:
            fail(str(error))
    done = [line for line in output.splitlines() if "Done. PASS=" in line]
    typer.echo(done[-1].split("Done. ", 1)[1] if done else "analytics marts refreshed")


@app.command()
def check() -> None:
    """Recompute the summaries and totals from the base tables; exit 1 on any difference."""
    import psycopg

    from shopdata.salesdb.queries import run_sql_file

    with _errors(), psycopg.connect(_target().url()) as conn:
        result = run_sql_file(conn, "salesdb/check_summaries.sql")
    if result.rows:
        for row in result.rows[:20]:
            typer.echo(f"{row[0]} {row[1]}: stored {row[2]}, recomputed {row[3]}", err=True)
        fail(f"{len(result.rows)} summary rows differ from the base tables")
    typer.echo("summaries consistent: member_spending, item_sales and transaction totals")


@app.command("repair-summaries")
def repair_summaries_command() -> None:
    """Recompute every summary and transaction total from the base tables (one transaction,
    writers wait meanwhile) and print each row that changed."""
    import psycopg

    from shopdata.salesdb.queries import read_sql, run_sql_file

    with _errors(), psycopg.connect(_target().url()) as conn, conn.transaction():
        conn.execute(read_sql("salesdb/repair_summaries_lock.sql"))
        changed = run_sql_file(conn, "salesdb/check_summaries.sql").rows
        try:
            conn.execute(read_sql("salesdb/repair_summaries.sql"))
        except psycopg.errors.IntegrityError as error:
            fail(
                "the recomputed summaries break a constraint, so the base tables themselves "
                f"hold a bad value: {error.diag.message_primary}; nothing was changed"
            )
        left = run_sql_file(conn, "salesdb/check_summaries.sql").rows
        if left:
            fail(
                f"{len(left)} rows still differ after recomputing, so the base tables themselves "
                f"hold a value that cannot be summed (first: {left[0][0]} {left[0][1]}, "
                f"{left[0][3]}); nothing was changed"
            )
    for summary, key, stored, recomputed in changed:
        typer.echo(f"{summary} {key}: {stored} -> {recomputed}")
    typer.echo(
        f"repaired {len(changed)} rows" if changed else "nothing to repair: summaries consistent"
    )


@app.command("roll-up")
def roll_up_command(
    every: float | None = typer.Option(
        None,
        "--every",
        min=0.1,
        help="Keep running: roll up again every SECONDS (the periodic job). [default: once]",
        show_default=False,
    ),
) -> None:
    """Move the committed summary deltas into member_spending / item_sales (exact either way;
    this keeps the delta table short so the analyst queries stay fast)."""
    import time

    import psycopg

    from shopdata.errors import first_line
    from shopdata.salesdb.queries import read_sql

    with _errors():
        url = _target().url()
    roll_up = read_sql("salesdb/roll_up.sql")
    rolled_once = False
    while True:
        with _errors():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    while True:
                        row = conn.execute(roll_up).fetchone()
                        rolled_once = True
                        moved = int(row[0]) if row else 0
                        if every is None:
                            typer.echo(f"rolled up {moved} delta rows")
                            return
                        time.sleep(every)
            except psycopg.OperationalError as error:
                # Only the periodic job, and only once it has worked (a wrong URL or password
                # still fails at once): a lost connection (server restart, pg_terminate_backend,
                # network) must not end the job the analyst queries' freshness bound needs.
                if every is None or not rolled_once:
                    raise
                state = f" (SQLSTATE {error.sqlstate})" if error.sqlstate else ""
                typer.echo(
                    f"roll-up: {first_line(error)}{state}; reconnecting in {every:g} s", err=True
                )
        time.sleep(every or 1.0)


@app.command("load-members")
def load_members_command(
    output_dir: Path | None = typer.Argument(
        None,
        help="The membership pipeline's output folder (holds successful/). "
        "[default: settings members.output_dir]",
        show_default=False,
    ),
) -> None:
    """Load the pipeline's successful members (COPY; all or nothing; idempotent)."""
    from shopdata.config import get_settings
    from shopdata.salesdb.members_loader import load_members
    from shopdata.salesdb.staging import LoadError

    folder = output_dir if output_dir is not None else get_settings().members.output_dir
    with _errors():
        if not folder.is_dir():
            fail(f"{folder} does not exist or is not a folder", EXIT_USAGE)
        try:
            report = load_members(_target().url(), folder)
        except LoadError as error:
            fail(str(error))
    typer.echo(
        f"members: {report.new} new, {report.already_present} already present "
        f"({report.rows} rows in {report.files} files)"
    )


# Team access (issue 4): the work is in users.py and access.py.


@app.command("add-user")
def add_user_command(
    name: str = typer.Argument(..., metavar="NAME", help="Login name of the person (a-z, 0-9, _)."),
    team: str = typer.Option(
        ..., "--team", "-t", help="Team role to join: logistics, analytics or sales."
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Superuser (or CREATEROLE) URL. [default: DATABASE_URL, else the embedded server]",
        show_default=False,
    ),
) -> None:
    """Create a LOGIN role in a team with a generated password, printed once and stored nowhere."""
    import psycopg

    from shopdata.access.matrix import MatrixError, load_matrix
    from shopdata.access.users import BadUserArgument, UserError, add_user, connect_hint, validate
    from shopdata.salesdb.server import DatabaseError

    try:
        matrix = load_matrix()
        validate(name, team, matrix)
        if database_url is None:
            database_url = _target().url()
        with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
            user = add_user(conn, name, team, matrix)
    except BadUserArgument as error:
        fail(str(error), EXIT_USAGE)
    except (UserError, MatrixError, DatabaseError) as error:
        fail(str(error))
    except psycopg.errors.InsufficientPrivilege as error:
        fail(f"not allowed to create roles: {error.diag.message_primary}")
    except psycopg.OperationalError as error:
        fail(database_problem(error))
    except psycopg.Error as error:
        fail(f"the database refused: {error.diag.message_primary or error}")
    typer.echo(f'Created LOGIN role "{user.name}" in team "{user.team}".')
    typer.echo(
        "Its password is shown this once and stored nowhere "
        "(the server keeps only a SCRAM-SHA-256 verifier):"
    )
    typer.echo("")
    typer.echo(f"    {user.password}")
    typer.echo("")
    typer.echo(f"Connect with: {connect_hint(database_url, user.name)}")


@app.command("audit-access")
def audit_command(
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Database to audit. [default: DATABASE_URL, else the embedded server]",
        show_default=False,
    ),
) -> None:
    """Check that a live database grants the teams, and every person who can log in, exactly
    what shopdata/access/matrix.yaml says (grants, memberships, attributes, settings, ownership,
    default privileges)."""
    import psycopg

    from shopdata.access.audit import audit
    from shopdata.access.matrix import MatrixError, load_matrix
    from shopdata.access.people_audit import audit_people
    from shopdata.salesdb.server import DatabaseError, redact

    try:
        matrix = load_matrix()
        if database_url is None:
            database_url = _target().url()
        with psycopg.connect(database_url, autocommit=True, connect_timeout=10) as conn:
            checked, problems = audit(conn, matrix)
            people = audit_people(conn, matrix)
        checked += people.checked
        problems += people.problems
    except (MatrixError, DatabaseError) as error:
        fail(str(error))
    except psycopg.Error as error:
        fail(f"cannot audit the database: {first_line(error)}")
    for problem in problems:
        typer.echo(problem)
    typer.echo(f"people who can log in: {', '.join(people.people) or 'none but the owner'}")
    if problems:
        fail(
            f"{len(problems)} difference(s) between {redact(database_url)} and "
            "shopdata/access/matrix.yaml"
        )
    typer.echo(
        f"{redact(database_url)}: {checked} decisions checked, "
        "all as shopdata/access/matrix.yaml says"
    )


@app.command()
def sessions(
    kill_idle: int | None = typer.Option(
        None,
        "--kill-idle",
        min=1,
        metavar="SECONDS",
        help="Terminate people's sessions idle inside a transaction for at least SECONDS "
        "(they hold their locks while idle).",
    ),
    kill_blocking: int | None = typer.Option(
        None,
        "--kill-blocking",
        min=1,
        metavar="SECONDS",
        help="Terminate people's sessions that make other sessions wait, from a transaction "
        "open for at least SECONDS (busy or idle: e.g. a lock held through pg_sleep).",
    ),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Superuser URL. [default: DATABASE_URL, else the embedded server]",
        show_default=False,
    ),
) -> None:
    """List people's sessions (not superusers'): idle time in a transaction, sessions blocked.

    Team users can switch their own timeouts off; this is how an operator finds and ends a
    session that holds locks while idle or busy (see docs/access.md, "What PostgreSQL cannot
    prevent").
    """
    import psycopg

    from shopdata.access.sessions import (
        describe,
        list_sessions,
        terminate,
        to_kill,
        to_kill_blocking,
    )

    with _errors():
        url = database_url or _target().url()
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            found = list_sessions(conn)
            idle = to_kill(found, kill_idle) if kill_idle is not None else []
            blocking = to_kill_blocking(found, kill_blocking) if kill_blocking is not None else []
            doomed = idle + [s for s in blocking if s not in idle]
            ended = [s for s in doomed if terminate(conn, s)]
    for session in found:
        mark = "terminated: " if session in ended else ""
        typer.echo(f"{mark}{describe(session)}")
    summary = f"{len(found)} session(s) of people"
    if kill_idle is not None:
        n = sum(1 for s in ended if s in idle)
        summary += f"; {n} idle in a transaction for >= {kill_idle} s terminated"
    if kill_blocking is not None:
        n = sum(1 for s in ended if s in blocking and s not in idle)
        summary += f"; {n} blocking others from a transaction open >= {kill_blocking} s terminated"
    typer.echo(summary)


@app.command()
def seed(
    members: int | None = typer.Option(
        None, "--members", min=0, max=1_048_576, help="Synthetic members to add. [default: 2000]"
    ),
    items: int | None = typer.Option(
        None, "--items", min=1, help="Items in the catalogue. [default: 200]"
    ),
    transactions: int | None = typer.Option(
        None, "--transactions", min=0, help="Transactions (about 3 line items each). [20000]"
    ),
    random_seed: int | None = typer.Option(
        None, "--seed", help="Random seed; the same seed gives the same data."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress lines."),
) -> None:
    """Generate a realistic catalogue, members and sales (fixed seed) and COPY them in."""
    from shopdata.config import get_settings
    from shopdata.salesdb.seed import SeedPlan
    from shopdata.salesdb.seed import seed as run_seed

    settings = get_settings().db
    plan = SeedPlan(
        members=settings.seed_members if members is None else members,
        items=settings.seed_items if items is None else items,
        transactions=settings.seed_transactions if transactions is None else transactions,
        seed=settings.seed if random_seed is None else random_seed,
    )

    def progress(message: str) -> None:
        if not quiet:
            typer.echo(message, err=True)

    with _errors():
        try:
            report = run_seed(_target().url(), plan, progress)
        except ValueError as error:
            fail(str(error))
    if report.skipped_existing:
        typer.echo(
            f"seed: the database already holds {report.skipped_existing} transactions; nothing "
            "added (shopdata db reset --yes starts over)"
        )
        return
    seconds = report.load_seconds
    rate = report.line_items / seconds if seconds else 0.0
    mode = "bulk load, set-based checks" if report.bulk else "row-level checks"
    typer.echo(
        f"seed: {report.members} members, {report.manufacturers} manufacturers, "
        f"{report.items} items, {report.transactions} transactions, "
        f"{report.line_items} line items in {seconds:.1f} s ({rate:,.0f} line items/s, {mode})"
    )


@app.command("load-sales")
def load_sales_command(
    folder: Path = typer.Argument(
        ...,
        help="Folder with manufacturers.csv, items.csv, transactions.csv, "
        "transaction_items.csv (any of them).",
        show_default=False,
    ),
) -> None:
    """Load catalogue and transactions from CSV files (COPY; all or nothing)."""
    from shopdata.salesdb.sales_loader import load_sales
    from shopdata.salesdb.staging import LoadError

    with _errors():
        if not folder.is_dir():
            fail(f"{folder} does not exist or is not a folder", EXIT_USAGE)
        try:
            report = load_sales(_target().url(), folder)
        except LoadError as error:
            fail(str(error))
    typer.echo("loaded: " + ", ".join(f"{n} {table}" for table, n in report.rows.items()))
