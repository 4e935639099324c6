"""``shopdata db seed``, the command itself: what it prints, what it loads, what it refuses.

The seed module has its own tests; these run the CLI against a fresh database (DATABASE_URL) and
count the rows it wrote, check that the summaries it leaves are exact, that a second run adds
nothing, that the same seed gives the same rows, and that bad arguments exit 2 untouched.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.config import get_settings

from .helpers import scalar

ARGS = ["db", "seed", "--members", "30", "--items", "12", "--transactions", "80", "--seed", "7"]
SUMMARY = re.compile(
    r"seed: 30 members, (?P<manufacturers>\d+) manufacturers, 12 items, 80 transactions, "
    r"(?P<lines>\d+) line items in \d+\.\d s \([\d,]+ line items/s, "
    r"(bulk load, set-based checks|row-level checks)\)\n"
)
FINGERPRINT = (
    "select count(*), sum(total_price), sum(total_quantity), "
    "string_agg(membership_id || ':' || status || ':' || total_price, ',' "
    "order by transaction_id) from sales.transactions"
)


def plain(text: str) -> str:
    """Typer's boxed usage error as one line of words."""
    for frame in "│╭╮╰╯─":
        text = text.replace(frame, " ")
    return " ".join(text.split())


def counts(url: str) -> dict[str, object]:
    tables = ("members", "manufacturers", "items", "transactions", "transaction_items")
    found: dict[str, object] = {}
    with psycopg.connect(url) as conn:
        for table in tables:
            query = sql.SQL("select count(*) from {}").format(sql.Identifier("sales", table))
            row = conn.execute(query).fetchone()
            found[table] = row[0] if row else None
    return found


def test_seed_loads_what_it_prints_and_leaves_exact_summaries(db_env: str) -> None:
    runner = CliRunner()
    result = runner.invoke(app, [*ARGS, "--quiet"])
    assert (result.exit_code, result.stderr) == (0, ""), result.output
    match = SUMMARY.fullmatch(result.stdout)
    assert match is not None, result.stdout
    assert counts(db_env) == {
        "members": 30,
        "manufacturers": int(match["manufacturers"]),
        "items": 12,
        "transactions": 80,
        "transaction_items": int(match["lines"]),
    }
    check = runner.invoke(app, ["db", "check"])
    assert (check.exit_code, check.stdout) == (
        0,
        "summaries consistent: member_spending, item_sales and transaction totals\n",
    )

    again = runner.invoke(app, [*ARGS, "--quiet"])
    assert (again.exit_code, again.stdout) == (
        0,
        "seed: the database already holds 80 transactions; nothing added "
        "(shopdata db reset --yes starts over)\n",
    )
    assert scalar(db_env, "select count(*) from sales.transactions") == 80


def test_the_same_seed_gives_the_same_rows(
    db_env: str, pg_server: object, sales_template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, [*ARGS, "--quiet"]).exit_code == 0
    first = scalar(db_env, FINGERPRINT)

    name = pg_server.unique_name("seed_again")  # type: ignore[attr-defined]
    other = pg_server.create_database(name, template=sales_template)  # type: ignore[attr-defined]
    try:
        monkeypatch.setenv("DATABASE_URL", other)
        get_settings.cache_clear()
        assert runner.invoke(app, [*ARGS, "--quiet"]).exit_code == 0
        assert scalar(other, FINGERPRINT) == first
    finally:
        get_settings.cache_clear()
        pg_server.drop_database(name)  # type: ignore[attr-defined]


def test_progress_lines_go_to_stderr_unless_quiet(db_env: str) -> None:
    result = CliRunner().invoke(app, ARGS)
    assert result.exit_code == 0
    assert SUMMARY.fullmatch(result.stdout)
    assert result.stderr != ""
    assert all(line.strip() for line in result.stderr.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--members", "-1"],
            "Invalid value for '--members': Input should be greater than or equal to 0",
        ),
        (
            ["--items", "0"],
            "Invalid value for '--items': Input should be greater than or equal to 1",
        ),
        (
            ["--transactions", "many"],
            "Invalid value for '--transactions': Input should be a valid integer",
        ),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(db_env: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["db", "seed", *args])
    assert result.exit_code == 2
    assert message in plain(result.stderr)
    with psycopg.connect(db_env) as conn:
        row = conn.execute("select count(*) from sales.transactions").fetchone()
    assert row == (0,)
