"""Pending purchases deleted from the source leave the incremental marts (issue 21, found by
the acceptance test): only pending purchases can be deleted, and ``delete+insert`` replaces only
the keys a run emits, so a deleted purchase used to stay in ``fct_purchases`` and
``fct_line_items`` and kept counting in the daily and monthly aggregates (revenue by month one
purchase too many, the backlog one purchase too long) until a ``--full-refresh``; likewise the
old lines of a pending purchase whose every line was deleted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from shopdata.analytics.catalogue import question_files, run_question
from shopdata.analytics.dbt import run_dbt

from .helpers import REFERENCE_DIR, fetch, fill
from .test_incremental import _snapshot

QUESTIONS = question_files()

# Pending purchases added to the fixture: 30 alone on its UTC day (160 days ago, 06:00 UTC),
# 31 on the day of purchase 3, 32 with two lines.
ADDED = """
insert into sales.transactions (transaction_id, membership_id, created_at) values
(30, 'Ang_00001', date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'
    - interval '160 days' + interval '6 hours'),
(31, 'Bala_00002', now() - interval '150 days'),
(32, 'Chan_00003', now() - interval '2 days');
insert into sales.transaction_items (transaction_id, item_id, quantity, unit_price, unit_weight_kg)
values (30, 9, 1, 300.00, 0.200), (30, 8, 2, 12.00, 0.700), (31, 2, 1, 35.00, 2.000),
(32, 1, 1, 20.00, 1.500), (32, 5, 4, 1.00, 0.050);
"""

DELETED = """
delete from sales.transaction_items where transaction_id in (30, 31);
delete from sales.transactions where transaction_id in (30, 31);
delete from sales.transaction_items where transaction_id = 32 and item_id = 5;
"""


def _run(url: str, statements: str) -> None:
    """Run SQL statements in one database transaction."""
    with psycopg.connect(url) as conn:
        conn.execute(statements.encode())


@pytest.fixture(scope="module")
def deleted_db(pg_server: Any, sales_template: str) -> Iterator[str]:
    """The fixture plus 30-32, built; 30 and 31 deleted and a line of 32 removed; built again
    (incremental, every dbt test included: run_dbt raises on any failure)."""
    name = pg_server.unique_name("analytics_del")
    url = pg_server.create_database(name, template=sales_template)
    try:
        fill(url)
        _run(url, ADDED)
        run_dbt(url, ["build"])
        assert fetch(
            url, "select count(*) from marts.fct_purchases where transaction_id >= 30"
        ) == [(3,)]
        _run(url, DELETED)
        run_dbt(url, ["build"])
        yield url
    finally:
        pg_server.drop_database(name)


def test_deleted_purchases_and_lines_leave_the_facts(deleted_db: str) -> None:
    assert fetch(
        deleted_db, "select transaction_id from marts.fct_purchases where transaction_id >= 30"
    ) == [(32,)]
    assert fetch(
        deleted_db,
        "select transaction_id, item_id from marts.fct_line_items where transaction_id >= 30",
    ) == [(32, 1)]


def test_the_emptied_day_leaves_the_daily_aggregates(deleted_db: str) -> None:
    for query in (
        "select count(*) from marts.agg_daily_sales"
        " where day = (now() at time zone 'UTC')::date - 160",
        "select count(*) from marts.agg_daily_basket_sizes"
        " where day = (now() at time zone 'UTC')::date - 160",
    ):
        assert fetch(deleted_db, query) == [(0,)]


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_question_equals_reference_after_deletions(deleted_db: str, name: str) -> None:
    reference = fetch(deleted_db, (REFERENCE_DIR / QUESTIONS[name].name).read_bytes())
    assert run_question(deleted_db, name).rows == reference


def test_a_purchase_whose_every_line_was_deleted_keeps_no_line(deleted_db: str) -> None:
    _run(deleted_db, "delete from sales.transaction_items where transaction_id = 32")
    run_dbt(deleted_db, ["build"])
    assert fetch(
        deleted_db, "select count(*) from marts.fct_line_items where transaction_id = 32"
    ) == [(0,)]
    incremental = _snapshot(deleted_db)
    run_dbt(deleted_db, ["run", "--full-refresh"])
    assert _snapshot(deleted_db) == incremental
