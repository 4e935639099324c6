"""`shopdata db up|url|down` manage one embedded server, idempotently."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.config import get_settings

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def embedded_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, int]]:
    data_dir = REPO / "var" / "test-pg" / f"cli-{os.getpid()}"
    port = _free_port()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPDATA_DB__DATA_DIR", str(data_dir))
    monkeypatch.setenv("SHOPDATA_DB__PORT", str(port))
    monkeypatch.setenv("SHOPDATA_DB__SERVER_SETTINGS", '{"fsync": "off", "shared_buffers": "64MB"}')
    get_settings.cache_clear()
    yield data_dir, port
    CliRunner().invoke(app, ["db", "down"])
    get_settings.cache_clear()
    shutil.rmtree(data_dir, ignore_errors=True)


def test_up_url_down_round_trip(embedded_env: tuple[Path, int]) -> None:
    data_dir, port = embedded_env
    runner = CliRunner()
    url = f"postgresql://postgres@127.0.0.1:{port}/shopdata"

    down_first = runner.invoke(app, ["db", "url"])
    assert (down_first.exit_code, down_first.stderr) == (
        1,
        f"Error: the embedded database in {data_dir} is not running (start it with: shopdata db up)\n",
    )

    first = runner.invoke(app, ["db", "up"])
    assert first.exit_code == 0, first.output
    assert first.stdout == (
        f"embedded PostgreSQL in {data_dir}: started; schema created from db/initdb; {url}\n"
    )
    again = runner.invoke(app, ["db", "up"])
    assert again.stdout == (
        f"embedded PostgreSQL in {data_dir}: already running; schema present; {url}\n"
    )
    assert runner.invoke(app, ["db", "url"]).stdout == url + "\n"
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select current_setting('work_mem'), current_setting('jit'),"
            " current_setting('fsync'), current_setting('server_version_num')::int / 10000"
        ).fetchone()
    assert row == ("64MB", "off", "off", 18)

    stop = runner.invoke(app, ["db", "down"])
    assert stop.stdout == f"embedded PostgreSQL in {data_dir}: stopped\n"
    assert runner.invoke(app, ["db", "down"]).stdout == (
        f"embedded PostgreSQL in {data_dir}: was not running\n"
    )
    restart = runner.invoke(app, ["db", "up"])
    assert restart.stdout == (
        f"embedded PostgreSQL in {data_dir}: started; schema present; {url}\n"
    )


def test_reset_needs_yes(db_env: str) -> None:
    result = CliRunner().invoke(app, ["db", "reset"])
    assert (result.exit_code, result.stderr) == (
        2,
        "Error: reset deletes every row of the sales database; run again with --yes\n",
    )


def test_reset_rebuilds_an_empty_database(db_env: str) -> None:
    from .helpers import apply_sql_file, scalar

    apply_sql_file(db_env, "fixture_sales.sql")
    result = CliRunner().invoke(app, ["db", "reset", "--yes"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("DATABASE_URL ")
    assert scalar(db_env, "select count(*) from sales.transactions") == 0


def test_unreachable_database_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{_free_port()}/x")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "query", "top-members"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the database: ")
    assert result.stderr.count("\n") == 1
