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


# An invalid setting is a usage error in every component (found by an outside test of issue 19:
# only carprice caught it; members, db, covid and orchestrate printed pydantic's traceback, exit 1).
BAD_SETTING = (
    "Error: invalid setting db.port (SHOPDATA_DB__PORT='abc'): Input should be a valid integer, "
    "unable to parse string as an integer\n"
)


@pytest.mark.parametrize(
    "args",
    [
        ["members", "run", "--landing", "{tmp}", "--output", "{tmp}/out"],
        ["db", "up"],
        ["db", "query", "top-items"],
        ["covid", "summary"],
        ["carprice", "evaluate"],
        ["orchestrate"],
    ],
    ids=["members", "db up", "db query", "covid", "carprice", "orchestrate"],
)
def test_an_invalid_setting_is_one_usage_error_line_in_every_component(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    from shopdata.config import get_settings

    monkeypatch.setenv("SHOPDATA_DB__PORT", "abc")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, [a.format(tmp=tmp_path) for a in args])
    finally:
        get_settings.cache_clear()
    assert (result.exit_code, result.stdout, result.stderr) == (EXIT_USAGE, "", BAD_SETTING)


def test_fail_joins_a_message_of_several_lines_into_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(typer.Exit):
        fail("initdb failed in var/pgdata: initdb: error: x\n\tdetail: y\n")
    assert (
        capsys.readouterr().err
        == "Error: initdb failed in var/pgdata: initdb: error: x | detail: y\n"
    )
