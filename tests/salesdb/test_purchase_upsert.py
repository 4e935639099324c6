"""Re-sending a purchase with INSERT ... ON CONFLICT neither counts it twice nor unfreezes it.

An idempotent client re-sends a purchase it may already have stored: ``INSERT INTO
sales.transactions ... ON CONFLICT DO NOTHING``. PostgreSQL fires BEFORE INSERT row triggers for
the proposed row even when the conflict then skips it, so anything a BEFORE INSERT trigger
records for that row must not outlive the skip. The outside tester of issue 13 found two things
that did: the member's +1 transaction delta (``db check``: ``member_spending Ito_00009: stored
.../3, recomputed .../2``) and the "finished purchase inserted by this database transaction"
mark, which let the same database transaction add lines to a purchase completed long ago.
"""

from __future__ import annotations

import psycopg
import pytest

from shopdata.salesdb.queries import run_sql_file

from .helpers import apply_sql_file

RESEND_COMPLETED_14 = (
    "insert into sales.transactions (transaction_id, membership_id, status, created_at,"
    " completed_at) values (14, 'Ito_00009', 'completed', '2024-02-05 10:00+00',"
    " '2024-02-06 10:00+00') on conflict (transaction_id) do nothing"
)
RESEND_PENDING_3 = (
    "insert into sales.transactions (transaction_id, membership_id, created_at)"
    " values (3, 'Chan_00003', '2024-01-03 10:00+00') on conflict do nothing"
)


def _check(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return [tuple(row) for row in run_sql_file(conn, "salesdb/check_summaries.sql").rows]


@pytest.mark.parametrize("statement", [RESEND_COMPLETED_14, RESEND_PENDING_3])
def test_a_skipped_resend_leaves_the_summaries_exact(sales_db: str, statement: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db, autocommit=True) as conn:
        cur = conn.execute(statement)
        assert cur.rowcount == 0
        conn.execute("select sales.roll_up_summaries()")
        row = conn.execute(
            "select transaction_count from sales.member_spending where membership_id = %s",
            ("Ito_00009" if "14" in statement else "Chan_00003",),
        ).fetchone()
    assert row == ((2,) if "14" in statement else (1,))
    assert _check(sales_db) == []


def test_a_skipped_resend_does_not_unfreeze_a_completed_purchase(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        assert conn.execute(RESEND_COMPLETED_14).rowcount == 0
        with pytest.raises(psycopg.errors.CheckViolation) as caught:
            conn.execute(
                "insert into sales.transaction_items"
                " (transaction_id, item_id, quantity, unit_price, unit_weight_kg)"
                " values (14, 3, 5, 5.00, 0.300)"
            )
    assert str(caught.value).splitlines()[0] == (
        "line item (transaction_id=14, item_id=3): transaction 14 is completed,"
        " its line items can no longer change"
    )
    with psycopg.connect(sales_db) as conn:
        rows = conn.execute(
            "select item_id, quantity from sales.transaction_items where transaction_id = 14"
        ).fetchall()
        totals = conn.execute(
            "select total_price, total_quantity from sales.transactions where transaction_id = 14"
        ).fetchone()
    assert rows == [(1, 1)]
    assert totals is not None and (str(totals[0]), totals[1]) == ("25.00", 1)
    assert _check(sales_db) == []


def test_a_finished_purchase_really_inserted_still_takes_its_lines(sales_db: str) -> None:
    """The loader's path: a historical completed purchase and its lines, one transaction."""
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        cur = conn.execute(
            "insert into sales.transactions (transaction_id, membership_id, status,"
            " created_at, completed_at) values (15, 'Ang_00001', 'completed',"
            " '2024-02-07 10:00+00', '2024-02-08 10:00+00') on conflict do nothing"
        )
        assert cur.rowcount == 1
        conn.execute(
            "insert into sales.transaction_items"
            " (transaction_id, item_id, quantity, unit_price, unit_weight_kg)"
            " values (15, 3, 2, 5.00, 0.300)"
        )
    with psycopg.connect(sales_db) as conn:
        totals = conn.execute(
            "select total_price, total_quantity from sales.transactions where transaction_id = 15"
        ).fetchone()
    assert totals is not None and (str(totals[0]), totals[1]) == ("10.00", 2)
    assert _check(sales_db) == []
