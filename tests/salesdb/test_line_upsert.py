"""A line written with INSERT ... ON CONFLICT is counted once, as what was really written.

BEFORE INSERT row triggers fire for a row that ON CONFLICT then skips (DO NOTHING) or turns into
an UPDATE (DO UPDATE). Accounting there doubled the purchase's totals and the item's sales for
a natural "add to basket" upsert; `db check` found the drift only afterwards."""

from __future__ import annotations

from decimal import Decimal

import psycopg

from shopdata.salesdb.queries import run_sql_file

from .helpers import apply_sql_file

ITEM_1 = "select purchase_count, units_sold, revenue from sales.item_sales where item_id = 1"


def test_upserted_lines_are_counted_once(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db, autocommit=True) as conn:
        row = conn.execute(
            "insert into sales.transactions (transaction_id, membership_id)"
            " select max(transaction_id) + 1, 'Ang_00001' from sales.transactions"
            " returning transaction_id"
        ).fetchone()
        assert row is not None
        tid = row[0]
        conn.execute("select sales.roll_up_summaries()")
        before = conn.execute(ITEM_1).fetchone()
        insert = (
            "insert into sales.transaction_items"
            " (transaction_id, item_id, quantity, unit_price, unit_weight_kg)"
            " values (%s, 1, %s, 10.00, 1.000)"
        )
        conn.execute(insert, (tid, 2))
        skipped = conn.execute(insert + " on conflict do nothing", (tid, 2))
        assert skipped.rowcount == 0
        conn.execute(
            insert + " on conflict (transaction_id, item_id) do update"
            " set quantity = sales.transaction_items.quantity + excluded.quantity",
            (tid, 5),
        )
        totals = conn.execute(
            "select total_price, total_weight_kg, total_quantity from sales.transactions"
            " where transaction_id = %s",
            (tid,),
        ).fetchone()
        assert totals == (Decimal("70.00"), Decimal("7.000"), 7)
        conn.execute("select sales.roll_up_summaries()")
        after = conn.execute(ITEM_1).fetchone()
        assert after is not None and before is not None
        assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (
            1,
            7,
            Decimal("70.00"),
        )
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []
