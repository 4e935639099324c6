"""The init files build the schema the docs describe, and the database keeps its invariants."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from shopdata.salesdb import server


def _seed_minimal(conn: psycopg.Connection) -> None:
    conn.execute(
        "insert into sales.members (membership_id, first_name, last_name, email, mobile_no,"
        " date_of_birth, above_18) values"
        " ('Lee_abcde', 'Ann', 'Lee', 'ann@lee.com', '12345678', '1990-01-01', true),"
        " ('Tan_12345', 'Bo', 'Tan', 'bo@tan.net', '87654321', '1980-05-06', true)"
    )
    conn.execute("insert into sales.manufacturers (manufacturer_id, name) values (1, 'Acme')")
    conn.execute(
        "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg) values"
        " (1, 1, 'Widget', 10.50, 1.200), (2, 1, 'Gadget', 3.00, 0.500)"
    )


def test_init_files_run_in_sorted_order() -> None:
    names = [p.name for p in server.init_files()]
    assert names == sorted(names)
    assert names[:7] == [
        "010_schema.sql",
        "020_members.sql",
        "030_catalog.sql",
        "040_transactions.sql",
        "050_summaries.sql",
        "060_triggers.sql",
        "070_bulk_load.sql",
    ]


def test_schema_has_the_normalised_tables(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'sales' and table_type = 'BASE TABLE' order by table_name"
        ).fetchall()
    assert [r[0] for r in rows] == [
        "bulk_load_state",
        "item_sales",
        "items",
        "manufacturers",
        "member_spending",
        "members",
        "summary_deltas",
        "transaction_items",
        "transactions",
    ]


def test_every_table_states_its_grain(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        rows = conn.execute(
            "select c.relname, obj_description(c.oid, 'pg_class') from pg_class as c"
            " where c.relnamespace = 'sales'::regnamespace and c.relkind = 'r'"
        ).fetchall()
    assert len(rows) == 9
    for name, comment in rows:
        assert comment is not None and comment.startswith("Grain: "), name
        assert "Invariant" in comment, name


def test_totals_follow_line_items_and_cannot_be_written(sales_db: str) -> None:
    with psycopg.connect(sales_db, autocommit=True) as conn:
        _seed_minimal(conn)
        conn.execute(
            "insert into sales.transactions (transaction_id, membership_id) values (1, 'Lee_abcde')"
        )
        conn.execute(
            "insert into sales.transaction_items values"
            " (1, 1, 2, 10.50, 1.200), (1, 2, 1, 3.00, 0.500)"
        )
        row = conn.execute(
            "select total_price, total_weight_kg, total_quantity from sales.transactions"
        ).fetchone()
        assert row == (Decimal("24.00"), Decimal("2.900"), 3)
        with pytest.raises(psycopg.errors.CheckViolation) as excinfo:
            conn.execute("update sales.transactions set total_price = 1")
        assert str(excinfo.value.diag.message_primary) == (
            "transaction 1: total_price, total_weight_kg and total_quantity are maintained by"
            " the database from its line items and cannot be written directly"
        )
        assert excinfo.value.diag.constraint_name == "transactions_totals_maintained"
