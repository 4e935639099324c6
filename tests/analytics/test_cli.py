"""`shopdata db refresh-analytics` and `shopdata db query NAME` on the hand-built fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from shopdata.analytics.catalogue import question_files
from shopdata.cli import app
from shopdata.config import get_settings

from .helpers import fetch, fill

runner = CliRunner()


@pytest.fixture(scope="module")
def cli_db(pg_server: Any, sales_template: str) -> Iterator[str]:
    """The fixture, not yet built by dbt."""
    name = pg_server.unique_name("analytics_cli")
    url = pg_server.create_database(name, template=sales_template)
    try:
        fill(url)
        yield url
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def env(cli_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", cli_db)
    get_settings.cache_clear()
    yield cli_db
    get_settings.cache_clear()


def test_query_before_the_first_refresh_is_one_line_error(env: str) -> None:
    result = runner.invoke(app, ["db", "query", "revenue-by-month"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "marts" in lines[0]


def test_refresh_then_every_question_prints_csv(env: str) -> None:
    result = runner.invoke(app, ["db", "refresh-analytics"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PASS=") and "ERROR=0" in result.output
    for name in question_files():
        answer = runner.invoke(app, ["db", "query", name, "--csv"])
        assert answer.exit_code == 0, (name, answer.output)
        assert len(answer.output.splitlines()) >= 2, name  # header + at least one row


def test_revenue_by_month_csv_is_exact(env: str) -> None:
    runner.invoke(app, ["db", "refresh-analytics", "--skip-tests"])
    expected = fetch(
        env,
        "select to_char(date_trunc('month', t.created_at at time zone 'UTC'), 'YYYY-MM-DD'), "
        "count(*), sum(t.total_price) from sales.transactions as t "
        "where t.status <> 'cancelled' group by 1 order by 1",
    )
    result = runner.invoke(app, ["db", "query", "revenue-by-month", "--csv"])
    assert result.exit_code == 0
    assert result.output.splitlines() == ["month_start,purchases,revenue"] + [
        f"{m},{n},{r}" for m, n, r in expected
    ]


def test_unknown_question_is_a_usage_error(env: str) -> None:
    result = runner.invoke(app, ["db", "query", "no-such-question"])
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_refresh_reports_a_broken_database_in_one_line(
    monkeypatch: pytest.MonkeyPatch, pg_server: Any
) -> None:
    # A database without the sales schema: dbt fails, the command says so and exits 1.
    name = pg_server.unique_name("analytics_empty")
    url = pg_server.create_database(name)
    try:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        result = runner.invoke(app, ["db", "refresh-analytics"])
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: dbt build failed")
    finally:
        get_settings.cache_clear()
        pg_server.drop_database(name)
