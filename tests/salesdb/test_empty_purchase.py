"""A purchase with no line item is not a purchase (docs/analytics.md, "Rules"; docs/salesdb.md):
the trigger-kept summaries count it nowhere until its first line arrives and stop counting it
when its last line is removed, exactly at every snapshot (summary + pending deltas), on the
row-trigger path and on the bulk-load path; `db check`, the repair and the reference agree.

Fixture: Ang_00001 has one completed purchase (transaction 1, 200.00); Lim_0000c one completed
(12, 40.00) and one cancelled (13); items 1-5 are on sale (tests/salesdb/fixture_sales.sql).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.salesdb.queries import run_sql_file

from .helpers import apply_sql_file

Conn = psycopg.Connection[Any]


def _stored(conn: Conn, member: str) -> tuple[Decimal, int]:
    """The member's exact summary: member_spending plus its not-yet-rolled deltas."""
    row = conn.execute(
        "select coalesce((select total_spent from sales.member_spending where membership_id = %s),"
        " 0) + coalesce((select sum(amount) from sales.summary_deltas where membership_id = %s),"
        " 0), (coalesce((select transaction_count from sales.member_spending"
        " where membership_id = %s), 0) + coalesce((select sum(transaction_count)"
        " from sales.summary_deltas where membership_id = %s), 0))::integer",
        (member, member, member, member),
    ).fetchone()
    assert row is not None
    return (row[0], row[1])


def _consistent(conn: Conn) -> None:
    """`db check`'s query finds nothing and top-members equals its reference."""
    assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []
    assert (
        run_sql_file(conn, "analyst/top_members.sql").rows
        == run_sql_file(conn, "salesdb/reference_top_members.sql").rows
    )
    assert (
        run_sql_file(conn, "analyst/top_items.sql").rows
        == run_sql_file(conn, "salesdb/reference_top_items.sql").rows
    )


def _ang_row(conn: Conn) -> tuple[object, ...]:
    rows = [r for r in run_sql_file(conn, "analyst/top_members.sql").rows if r[1] == "Ang_00001"]
    assert len(rows) == 1
    return tuple(rows[0])


def _new_purchase(conn: Conn, member: str = "Ang_00001") -> int:
    row = conn.execute(
        "insert into sales.transactions (membership_id) values (%s) returning transaction_id",
        (member,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _deltas(conn: Conn) -> int:
    row = conn.execute("select count(*) from sales.summary_deltas").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def fixture_db(sales_db: str) -> str:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        conn.execute("select setval('sales.transactions_transaction_id_seq', 14)")
    return sales_db


@pytest.mark.parametrize("roll_up", [False, True], ids=["deltas", "rolled-up"])
def test_an_empty_basket_counts_from_its_first_line_to_its_last(
    fixture_db: str, roll_up: bool
) -> None:
    with psycopg.connect(fixture_db, autocommit=True) as conn:

        def stored() -> tuple[Decimal, int]:
            if roll_up:
                conn.execute("select sales.roll_up_summaries()")
            _consistent(conn)
            return _stored(conn, "Ang_00001")

        assert stored() == (Decimal("200.00"), 1)
        tx = _new_purchase(conn)
        assert stored() == (Decimal("200.00"), 1)  # an empty basket is no purchase
        assert _ang_row(conn)[4:] == (Decimal("200.00"), 1)

        conn.execute("insert into sales.transaction_items values (%s, 3, 2, 5.00, 0.300)", (tx,))
        assert stored() == (Decimal("210.00"), 2)  # its first line makes it one
        assert _ang_row(conn)[4:] == (Decimal("210.00"), 2)
        conn.execute("insert into sales.transaction_items values (%s, 5, 1, 1.00, 0.050)", (tx,))
        assert stored() == (Decimal("211.00"), 2)  # a second line does not count it again
        conn.execute(
            "update sales.transaction_items set quantity = 4 where transaction_id = %s"
            " and item_id = 3",
            (tx,),
        )
        assert stored() == (Decimal("221.00"), 2)
        conn.execute(
            "delete from sales.transaction_items where transaction_id = %s and item_id = 3", (tx,)
        )
        assert stored() == (Decimal("201.00"), 2)  # one line left: still a purchase
        conn.execute(
            "update sales.transaction_items set quantity = 3 where transaction_id = %s", (tx,)
        )
        assert stored() == (Decimal("203.00"), 2)  # its only line changed: still one
        conn.execute("delete from sales.transaction_items where transaction_id = %s", (tx,))
        assert stored() == (Decimal("200.00"), 1)  # its last line removed: no purchase
        assert _ang_row(conn)[4:] == (Decimal("200.00"), 1)
        conn.execute("insert into sales.transaction_items values (%s, 4, 1, 15.00, 0.800)", (tx,))
        assert stored() == (Decimal("215.00"), 2)  # filled again


def test_one_statement_removing_every_line_and_adding_one_back(fixture_db: str) -> None:
    with psycopg.connect(fixture_db, autocommit=True) as conn:
        tx = _new_purchase(conn)
        conn.execute(
            "insert into sales.transaction_items values (%s, 3, 1, 5.00, 0.300),"
            " (%s, 5, 1, 1.00, 0.050)",
            (tx, tx),
        )
        assert _stored(conn, "Ang_00001") == (Decimal("206.00"), 2)
        # A line moved to another purchase: the first empties, the second gets its first line.
        other = _new_purchase(conn, "Lim_0000c")
        conn.execute(
            "update sales.transaction_items set transaction_id = %s where transaction_id = %s",
            (other, tx),
        )
        assert _stored(conn, "Ang_00001") == (Decimal("200.00"), 1)
        assert _stored(conn, "Lim_0000c") == (Decimal("46.00"), 2)
        _consistent(conn)


def test_cancelling_an_empty_basket_changes_nothing(fixture_db: str) -> None:
    with psycopg.connect(fixture_db, autocommit=True) as conn:
        tx = _new_purchase(conn)
        before = _deltas(conn)
        conn.execute(
            "update sales.transactions set status = 'cancelled', cancelled_at = now()"
            " where transaction_id = %s",
            (tx,),
        )
        assert _deltas(conn) == before  # not even a zero delta row
        assert _stored(conn, "Ang_00001") == (Decimal("200.00"), 1)
        _consistent(conn)


def test_cancelling_a_filled_basket_takes_it_out(fixture_db: str) -> None:
    with psycopg.connect(fixture_db, autocommit=True) as conn:
        tx = _new_purchase(conn)
        conn.execute("insert into sales.transaction_items values (%s, 3, 2, 5.00, 0.300)", (tx,))
        assert _stored(conn, "Ang_00001") == (Decimal("210.00"), 2)
        conn.execute(
            "update sales.transactions set status = 'cancelled', cancelled_at = now()"
            " where transaction_id = %s",
            (tx,),
        )
        assert _stored(conn, "Ang_00001") == (Decimal("200.00"), 1)
        _consistent(conn)


def test_moving_an_empty_basket_to_another_member_changes_no_count(fixture_db: str) -> None:
    with psycopg.connect(fixture_db, autocommit=True) as conn:
        tx = _new_purchase(conn)
        conn.execute(
            "update sales.transactions set membership_id = 'Lim_0000c' where transaction_id = %s",
            (tx,),
        )
        assert _stored(conn, "Ang_00001") == (Decimal("200.00"), 1)
        assert _stored(conn, "Lim_0000c") == (Decimal("40.00"), 1)
        _consistent(conn)


def test_deleting_an_empty_basket_and_an_emptied_one(fixture_db: str) -> None:
    with psycopg.connect(fixture_db, autocommit=True) as conn:
        empty = _new_purchase(conn)
        conn.execute("delete from sales.transactions where transaction_id = %s", (empty,))
        assert _stored(conn, "Ang_00001") == (Decimal("200.00"), 1)
        _consistent(conn)

        filled = _new_purchase(conn)
        conn.execute(
            "insert into sales.transaction_items values (%s, 3, 2, 5.00, 0.300)", (filled,)
        )
        assert _stored(conn, "Ang_00001") == (Decimal("210.00"), 2)
        with conn.transaction():  # the shop's delete_purchase: lines first, then the purchase
            conn.execute("delete from sales.transaction_items where transaction_id = %s", (filled,))
            conn.execute("delete from sales.transactions where transaction_id = %s", (filled,))
        assert _stored(conn, "Ang_00001") == (Decimal("200.00"), 1)
        _consistent(conn)


def test_a_filled_basket_deleted_with_its_lines_in_one_statement(fixture_db: str) -> None:
    with psycopg.connect(fixture_db, autocommit=True) as conn:
        tx = _new_purchase(conn)
        conn.execute("insert into sales.transaction_items values (%s, 3, 2, 5.00, 0.300)", (tx,))
        conn.execute(
            "with lines as (delete from sales.transaction_items where transaction_id = %s)"
            " delete from sales.transactions where transaction_id = %s",
            (tx, tx),
        )
        assert _stored(conn, "Ang_00001") == (Decimal("200.00"), 1)
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []


def test_historical_purchases_written_with_their_lines(fixture_db: str) -> None:
    with psycopg.connect(fixture_db) as conn:
        for insert in (
            "insert into sales.transactions (membership_id, status, created_at, completed_at)"
            " values ('Ang_00001', 'completed', '2024-03-01', '2024-03-02')"
            " returning transaction_id",
            "insert into sales.transactions (membership_id, status, created_at, cancelled_at)"
            " values ('Ang_00001', 'cancelled', '2024-03-01', '2024-03-02')"
            " returning transaction_id",
        ):
            row = conn.execute(insert.encode()).fetchone()
            assert row is not None
            conn.execute(
                "insert into sales.transaction_items values (%s, 3, 2, 5.00, 0.300)", (row[0],)
            )
        # A finished historical purchase with no line at all counts nowhere either.
        conn.execute(
            "insert into sales.transactions (membership_id, status, created_at, cancelled_at)"
            " values ('Ang_00001', 'cancelled', '2024-03-01', '2024-03-02')"
        )
        conn.commit()
        assert _stored(conn, "Ang_00001") == (Decimal("210.00"), 2)
        _consistent(conn)


def test_the_bulk_load_path_does_not_count_an_empty_purchase(fixture_db: str) -> None:
    with psycopg.connect(fixture_db) as conn:
        conn.execute("select sales.begin_bulk_load()")
        conn.execute(
            "insert into sales.transactions (transaction_id, membership_id, status, created_at,"
            " completed_at, total_price, total_weight_kg, total_quantity) values"
            " (15, 'Ang_00001', 'pending', '2024-03-01', null, 0, 0, 0),"
            " (16, 'Ang_00001', 'completed', '2024-03-01', '2024-03-02', 10.00, 0.600, 2),"
            " (17, 'Bala_00002', 'pending', '2024-03-01', null, 0, 0, 0)"
        )
        conn.execute("insert into sales.transaction_items values (16, 3, 2, 5.00, 0.300)")
        row = conn.execute("select sales.finish_bulk_load()").fetchone()
        conn.commit()
        assert row == (3,)
        assert _stored(conn, "Ang_00001") == (Decimal("210.00"), 2)
        assert _stored(conn, "Bala_00002") == (Decimal("175.00"), 1)
        _consistent(conn)
        # The empty ones loaded in bulk count from their first line on, like any other.
        conn.execute("insert into sales.transaction_items values (15, 5, 1, 1.00, 0.050)")
        conn.commit()
        assert _stored(conn, "Ang_00001") == (Decimal("211.00"), 3)
        _consistent(conn)


@pytest.mark.parametrize("roll_up", [False, True], ids=["no-summary-row", "summary-row"])
def test_check_reports_an_empty_basket_counted_and_repair_removes_it(
    db_env: str, roll_up: bool
) -> None:
    apply_sql_file(db_env, "fixture_sales.sql")
    with psycopg.connect(db_env) as conn:
        if roll_up:  # the repair then updates Ang's row; without, it inserts it
            conn.execute("select sales.roll_up_summaries()")
        conn.execute("select setval('sales.transactions_transaction_id_seq', 14)")
        conn.execute("insert into sales.transactions (membership_id) values ('Ang_00001')")
        # What the triggers wrote before the rule: the empty basket counted at its insert.
        conn.execute(
            "insert into sales.summary_deltas (membership_id, transaction_count)"
            " values ('Ang_00001', 1)"
        )
    runner = CliRunner()
    check = runner.invoke(app, ["db", "check"])
    assert (check.exit_code, check.stderr) == (
        1,
        "member_spending Ang_00001: stored 200.00/2, recomputed 200.00/1\n"
        "Error: 1 summary rows differ from the base tables\n",
    )
    repair = runner.invoke(app, ["db", "repair-summaries"])
    assert (repair.exit_code, repair.stdout) == (
        0,
        "member_spending Ang_00001: 200.00/2 -> 200.00/1\nrepaired 1 rows\n",
    )
    assert runner.invoke(app, ["db", "check"]).exit_code == 0
    with psycopg.connect(db_env) as conn:
        assert conn.execute(
            "select transaction_count from sales.member_spending where membership_id = 'Ang_00001'"
        ).fetchone() == (1,)


def test_the_analysts_spending_view_does_not_count_an_empty_basket(fixture_db: str) -> None:
    with psycopg.connect(fixture_db, autocommit=True) as conn:
        _new_purchase(conn)
        row = conn.execute(
            "select v.total_spent, v.transaction_count from analytics.member_spending as v"
            " inner join sales.members as m on v.member_key = m.member_key"
            " where m.membership_id = 'Ang_00001'"
        ).fetchone()
        assert row == (Decimal("200.00"), 1)
