"""A purchase and its lines written in ONE statement (data-modifying CTEs) keep the summaries exact.

AFTER ROW triggers fire at the end of the statement, when every row of it has been written. The
outside tester of issue 13 deleted a pending basket with its lines in one statement (``WITH l AS
(DELETE FROM sales.transaction_items ...) DELETE FROM sales.transactions ...``): the line trigger
then found no purchase to lock, skipped its accounting, and item_sales kept counting the deleted
lines (``db check``: ``item_sales 1: stored 4/...``, recomputed one purchase fewer).
"""

from __future__ import annotations

import psycopg

from shopdata.salesdb.queries import run_analyst_query, run_sql_file

from .helpers import apply_sql_file


def _check(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(row) for row in run_sql_file(conn, "salesdb/check_summaries.sql").rows]


def _references_match(url: str) -> None:
    for name, reference in (("top-members", "members"), ("top-items", "items")):
        with psycopg.connect(url) as conn:
            expected = run_sql_file(conn, f"salesdb/reference_top_{reference}.sql").rows
        assert run_analyst_query(url, name).rows == expected


def test_deleting_a_pending_basket_with_its_lines_in_one_statement(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db, autocommit=True) as conn:
        conn.execute("select sales.roll_up_summaries()")
        cur = conn.execute(
            "with l as (delete from sales.transaction_items where transaction_id = 3)"
            " delete from sales.transactions where transaction_id = 3"
        )
        assert cur.rowcount == 1
        conn.execute("select sales.roll_up_summaries()")
        row = conn.execute(
            "select purchase_count, units_sold, revenue from sales.item_sales where item_id = 3"
        ).fetchone()
    # The mug: transactions 6 (6 units) and 10 (10 units) remain; 3 (30 units) is gone and 13
    # is cancelled.
    assert row is not None and (row[0], row[1], str(row[2])) == (2, 16, "80.00")
    assert _check(sales_db) == []
    _references_match(sales_db)


def test_deleting_the_purchase_first_in_the_same_statement(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db, autocommit=True) as conn:
        conn.execute(
            "with t as (delete from sales.transactions where transaction_id = 3)"
            " delete from sales.transaction_items where transaction_id = 3"
        )
    assert _check(sales_db) == []
    _references_match(sales_db)


def test_a_purchase_and_its_lines_inserted_in_one_statement(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db, autocommit=True) as conn:
        row = conn.execute(
            "with t as (insert into sales.transactions (transaction_id, membership_id)"
            " values (20, 'Koh_0000b') returning transaction_id)"
            " insert into sales.transaction_items"
            " (transaction_id, item_id, quantity, unit_price, unit_weight_kg)"
            " select t.transaction_id, i.item_id, 2, i.cost, i.weight_kg"
            " from t cross join sales.items as i where i.item_id in (3, 4)"
            " returning transaction_id"
        ).fetchall()
        assert len(row) == 2
        totals = conn.execute(
            "select total_price, total_quantity from sales.transactions where transaction_id = 20"
        ).fetchone()
    assert totals is not None and (str(totals[0]), totals[1]) == ("40.00", 4)
    assert _check(sales_db) == []
    _references_match(sales_db)


def test_a_finished_purchase_and_its_lines_inserted_in_one_statement(sales_db: str) -> None:
    """The purchase's mark "inserted finished here" is recorded AFTER INSERT now (see
    test_purchase_upsert.py); in one statement its row event still comes before its lines'."""
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db, autocommit=True) as conn:
        conn.execute(
            "with t as (insert into sales.transactions (transaction_id, membership_id, status,"
            " created_at, completed_at) values (21, 'Koh_0000b', 'completed',"
            " '2024-03-01 10:00+00', '2024-03-02 10:00+00') returning transaction_id)"
            " insert into sales.transaction_items"
            " (transaction_id, item_id, quantity, unit_price, unit_weight_kg)"
            " select t.transaction_id, 3, 4, 5.00, 0.300 from t"
        )
        totals = conn.execute(
            "select status, total_price, total_quantity from sales.transactions"
            " where transaction_id = 21"
        ).fetchone()
    assert totals is not None and (totals[0], str(totals[1]), totals[2]) == (
        "completed",
        "20.00",
        4,
    )
    assert _check(sales_db) == []
    _references_match(sales_db)
