"""One way to report a failure (shopdata/errors.py), and every component's CLI uses it."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.errors import (
    EXIT_FAILURE,
    EXIT_USAGE,
    database_problem,
    fail,
    first_line,
)


def test_fail_prints_one_error_line_and_exits_with_the_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(typer.Exit) as raised:
        fail("the folder is gone", EXIT_USAGE)
    assert raised.value.exit_code == 2
    assert capsys.readouterr() == ("", "Error: the folder is gone\n")
    with pytest.raises(typer.Exit) as raised:
        fail("no data")
    assert raised.value.exit_code == EXIT_FAILURE == 1


def test_first_line_drops_psycopgs_detail_lines() -> None:
    error = psycopg.OperationalError(
        'connection to server at "127.0.0.1", port 1 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?\n"
    )
    assert first_line(error) == (
        'connection to server at "127.0.0.1", port 1 failed: Connection refused'
    )
    assert first_line(psycopg.OperationalError("  \n")) == "OperationalError"


def test_database_problem_tells_a_refusal_from_an_unreachable_server() -> None:
    refused = psycopg.errors.LockNotAvailable("canceling statement due to lock timeout\nCONTEXT: x")
    assert database_problem(refused) == (
        "canceling statement due to lock timeout (SQLSTATE 55P03); nothing was changed"
    )
    unreachable = psycopg.OperationalError("connection refused\nIs the server running?")
    assert database_problem(unreachable) == "cannot reach the database: connection refused"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["members", "run", "--landing", "{tmp}/nowhere"], 2, "Error: landing folder "),
        (["db", "reset"], 2, "Error: reset deletes every row of the sales database; "),
        (["covid", "fetch", "--api-base-url", "ftp://x"], 2, "Error: --api-base-url must start "),
        (["carprice", "evaluate", "--model-dir", "{tmp}"], 1, "Error: no metrics in "),
    ],
    ids=["members", "db", "covid", "carprice"],
)
def test_every_component_reports_one_error_line(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == code
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1  # one line, no traceback
    assert result.stdout == ""
