"""shopdata.salesdb.purchases, operation by operation, against the real schema.

Its statements live in ``sql/purchases/*.sql`` (PostgreSQL ``$1`` placeholders through a
RawCursor); each operation returns False, rather than writing, when the purchase is not pending
or is gone, and an empty basket can be cancelled but not completed (a purchase with no line item
is no purchase). After every step ``db check`` must be clean.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest

from shopdata.salesdb import purchases
from shopdata.salesdb.queries import read_sql, run_sql_file

from .helpers import apply_sql_file

KETTLE = (1, 2, Decimal("25.00"), Decimal("1.500"))
MUG = (3, 1, Decimal("5.00"), Decimal("0.300"))


def _row(conn: psycopg.Connection[Any], transaction_id: int) -> tuple[Any, ...] | None:
    return conn.execute(
        "select status, total_quantity, total_price from sales.transactions"
        " where transaction_id = %s",
        (transaction_id,),
    ).fetchone()


def _check_clean(conn: psycopg.Connection[Any]) -> None:
    assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []


@pytest.fixture
def conn(sales_db: str) -> Any:
    apply_sql_file(
        sales_db, "fixture_sales.sql"
    )  # purchase 3 pending, 13 cancelled, rest completed
    with psycopg.connect(sales_db, autocommit=True) as connection:
        # The fixture chose its ids itself: move the identities past them, as the loaders do.
        connection.execute(read_sql("salesdb/sync_identities.sql"))
        yield connection


def test_add_change_complete(conn: psycopg.Connection[Any]) -> None:
    tx = purchases.run(conn, lambda c: purchases.add_purchase(c, "Ang_00001", [KETTLE, MUG]))
    assert _row(conn, tx) == ("pending", 3, Decimal("55.00"))
    assert purchases.run(conn, lambda c: purchases.change_quantity(c, tx, 3, 4))
    assert _row(conn, tx) == ("pending", 6, Decimal("70.00"))
    assert not purchases.run(conn, lambda c: purchases.change_quantity(c, tx, 5, 1))  # no line
    assert purchases.run(conn, lambda c: purchases.set_status(c, tx, "completed"))
    assert _row(conn, tx) == ("completed", 6, Decimal("70.00"))
    # Finished: every later operation is refused without writing.
    assert not purchases.run(conn, lambda c: purchases.change_quantity(c, tx, 3, 9))
    assert not purchases.run(conn, lambda c: purchases.set_status(c, tx, "cancelled"))
    assert not purchases.run(conn, lambda c: purchases.delete_purchase(c, tx))
    assert _row(conn, tx) == ("completed", 6, Decimal("70.00"))
    _check_clean(conn)


def test_an_empty_basket_can_be_cancelled_or_deleted_but_not_completed(
    conn: psycopg.Connection[Any],
) -> None:
    empty = purchases.run(conn, lambda c: purchases.add_purchase(c, "Bala_00002", []))
    assert not purchases.run(conn, lambda c: purchases.set_status(c, empty, "completed"))
    assert _row(conn, empty) == ("pending", 0, Decimal("0.00"))
    assert purchases.run(conn, lambda c: purchases.set_status(c, empty, "cancelled"))
    assert _row(conn, empty)[0] == "cancelled"  # type: ignore[index]
    other = purchases.run(conn, lambda c: purchases.add_purchase(c, "Bala_00002", [MUG]))
    assert purchases.run(conn, lambda c: purchases.delete_purchase(c, other))
    assert _row(conn, other) is None
    assert not purchases.run(conn, lambda c: purchases.delete_purchase(c, other))  # gone
    assert not purchases.run(conn, lambda c: purchases.set_status(c, other, "completed"))
    _check_clean(conn)


def test_an_unknown_status_is_refused_before_any_sql(conn: psycopg.Connection[Any]) -> None:
    with pytest.raises(KeyError, match="shipped"):
        purchases.run(conn, lambda c: purchases.set_status(c, 3, "shipped"))
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert _row(conn, 3) == ("pending", 30, Decimal("150.00"))


def test_hostile_text_is_a_value_never_sql(conn: psycopg.Connection[Any]) -> None:
    hostile = "Ang_00001'); delete from sales.transactions; --"
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        purchases.run(conn, lambda c: purchases.add_purchase(c, hostile, [MUG]))
    count = conn.execute("select count(*) from sales.transactions").fetchone()
    assert count == (14,)
    _check_clean(conn)
