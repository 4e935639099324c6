"""The line-item trigger locks the purchase before the foreign-key check does (issue 13).

Since goal 2 one AFTER ROW trigger locks the purchase (its totals UPDATE) and does the
accounting. PostgreSQL fires the AFTER ROW triggers of a row in name order, the foreign keys'
internal ``RI_ConstraintTrigger_...`` ones included, so the trigger must sort before them: the
other order (KEY SHARE by the foreign key first, then the purchase lock) deadlocked with a
purchase being deleted (98 deadlocks in the issue's workload). tests/salesdb/test_concurrency.py
races it; this pins the order it depends on.
"""

from __future__ import annotations

import psycopg

ORDER = (
    "select tgname::text, tgisinternal from pg_trigger"
    " where tgrelid = 'sales.transaction_items'::regclass"
    " and tgtype & 1 = 1 and tgtype & 2 = 0 and tgtype & 4 = 4"  # ROW, AFTER, INSERT
    ' order by tgname collate "C"'
)


def test_the_line_trigger_fires_before_the_foreign_key_checks(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        rows = conn.execute(ORDER).fetchall()
    user = [name for name, internal in rows if not internal]
    internal = [name for name, internal in rows if internal]
    assert user == ["Line_items_changed"]
    assert len(internal) == 2  # transaction_id -> transactions, item_id -> items
    assert all(name.startswith("RI_ConstraintTrigger_c_") for name in internal)
    assert rows[0][0] == "Line_items_changed"  # fires first


def test_no_before_row_trigger_writes_lines_any_more(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        row = conn.execute(
            "select count(*) from pg_trigger where tgrelid = 'sales.transaction_items'::regclass"
            " and not tgisinternal and tgtype & 1 = 1 and tgtype & 2 = 2"  # ROW, BEFORE
        ).fetchone()
    assert row == (0,)
