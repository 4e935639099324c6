"""`shopdata db refresh-analytics` and `shopdata db query NAME` on the hand-built fixture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
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
        "where t.status <> 'cancelled' and exists (select from sales.transaction_items as li "
        "where li.transaction_id = t.transaction_id) group by 1 order by 1",
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


def test_a_failing_dbt_test_is_named_in_one_plain_line(
    monkeypatch: pytest.MonkeyPatch, pg_server: Any, sales_template: str
) -> None:
    """A back-dated purchase with a lower id (the documented limit) fails the invariant test:
    the one Error: line names that test, without dbt's terminal colour codes (both were missing:
    "\x1b[0m19:35:13  \x1b[31mCompleted with 1 error ...")."""
    name = pg_server.unique_name("analytics_cli_fail")
    url = pg_server.create_database(name, template=sales_template)
    try:
        fill(url)
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        assert runner.invoke(app, ["db", "refresh-analytics", "--skip-tests"]).exit_code == 0
        with psycopg.connect(url) as conn:
            conn.execute(
                b"insert into sales.transactions (transaction_id, membership_id, created_at,"
                b" status, completed_at) values (0, 'Ang_00001', now() - interval '199 days',"
                b" 'completed', now() - interval '198 days')"
            )
        result = runner.invoke(app, ["db", "refresh-analytics"])
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: dbt build failed (exit 1): ")
        assert "Failure in test purchases_equal_source" in lines[0]
        assert "\x1b" not in lines[0]
    finally:
        get_settings.cache_clear()
        pg_server.drop_database(name)


def test_a_second_refresh_waits_for_the_first(
    monkeypatch: pytest.MonkeyPatch, pg_server: Any, sales_template: str
) -> None:
    """Two refreshes at once used to run side by side: with shop writers busy, their
    delete+insert and refreshed_at bookkeeping interleaved and left fct_line_items rows without
    their purchase (the next build failed line_items_equal_source and the relationships test).
    A refresh now waits for the refresh lock; here the test holds it."""
    import threading
    import time

    from shopdata.resources import read_sql

    name = pg_server.unique_name("analytics_cli_lock")
    url = pg_server.create_database(name, template=sales_template)
    try:
        fill(url)
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        outcome: list[Any] = []
        with psycopg.connect(url, autocommit=True) as holder:
            holder.execute(read_sql("shopdata.analytics", "lock_refresh.sql").encode())
            worker = threading.Thread(
                target=lambda: outcome.append(
                    runner.invoke(app, ["db", "refresh-analytics", "--skip-tests"])
                )
            )
            worker.start()
            waiting: list[tuple[Any, ...]] = []
            deadline = time.monotonic() + 60
            while not waiting and time.monotonic() < deadline:
                time.sleep(0.2)
                waiting = fetch(
                    url,
                    "select pid from pg_locks where locktype = 'advisory' and not granted "
                    "and database = (select oid from pg_database where datname = current_database())",
                )
            assert waiting, "the refresh did not wait for the lock"
            assert outcome == [] and fetch(
                url, "select count(*) from pg_tables where schemaname = 'marts'"
            ) == [(0,)]
        worker.join(timeout=600)
        (result,) = outcome
        assert result.exit_code == 0, result.output
        assert fetch(url, "select count(*) from marts.fct_purchases") == fetch(
            url, "select count(*) from sales.transactions"
        )
    finally:
        get_settings.cache_clear()
        pg_server.drop_database(name)
