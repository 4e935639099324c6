"""Promises of the sales database that earlier tests stated but never reached.

Each test is written from the promise in the schema's comments or the analyst SQL's header, on a
fresh database built from ``src/shopdata/salesdb/sql/initdb`` (the real server), and each was checked against a
one-line mutation of that promise (see docs/testing.md): with the rule weakened, the test fails.

* ``membership_id`` is ``<last name>_<5 hex digits>[_<n>]`` (020_members.sql): exactly five
  lower-case hex digits, an optional ``_<n>`` without a leading zero, and a last name first.
* Only pending purchases are deleted (060_triggers.sql), also when nothing else stands in the
  way: a cancelled purchase has no line items, so no foreign key refuses its deletion first.
* Members who spent nothing are never listed by ``top-members`` (src/shopdata/salesdb/sql/analyst/top_members.sql),
  even when fewer than ten members spent anything, so that zero spenders would fit in the list.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from psycopg import sql

from shopdata.salesdb.queries import run_analyst_query

MEMBER = (
    "insert into sales.members (membership_id, first_name, last_name, email, mobile_no, "
    "date_of_birth, above_18) values (%s, 'Ann', 'Lee', 'ann@lee.com', '81234567', "
    "'1990-01-01', true)"
)


def _insert_member(url: str, membership_id: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(MEMBER, (membership_id,))


# --- membership_id format -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "membership_id",
    [
        "Lee_2b72a",
        "Lee_2b72a_2",
        "Lee_2b72a_10",
        "Van der Berg_00fff",  # a last name may hold spaces, just not start with one
        "O'Neil_abcde",
        "Lee_x_2b72a",  # the last "_<5 hex>" is the hash; what comes before is the name
    ],
)
def test_membership_ids_of_the_documented_form_are_accepted(
    sales_db: str, membership_id: str
) -> None:
    _insert_member(sales_db, membership_id)
    with psycopg.connect(sales_db) as conn:
        row = conn.execute("select membership_id from sales.members").fetchone()
    assert row == (membership_id,)


@pytest.mark.parametrize(
    "membership_id",
    [
        "Lee_2b72",  # four hex digits
        "Lee_2b72a1",  # six hex digits
        "Lee_2b72a12",  # seven
        "Lee_2B72A",  # upper-case hex
        "Lee_2b72g",  # not hex
        "Lee_2b72a_",  # an empty sequence number
        "Lee_2b72a_0",  # sequence numbers start at 1 (the 2nd person gets _2)
        "Lee_2b72a_02",  # no leading zero
        "Lee_2b72a_x",
        "_2b72a",  # no last name
        " Lee_2b72a",  # a name never starts with white space
        "Lee2b72a",  # no separator
        "Lee_2b72a\n",  # a trailing newline is not the end of the ID
    ],
)
def test_membership_ids_of_any_other_form_are_refused(sales_db: str, membership_id: str) -> None:
    with pytest.raises(psycopg.errors.CheckViolation) as raised:
        _insert_member(sales_db, membership_id)
    assert raised.value.diag.constraint_name == "members_membership_id_format"
    with psycopg.connect(sales_db) as conn:
        count = conn.execute("select count(*) from sales.members").fetchone()
    assert count == (0,)


# --- only pending purchases are deleted ---------------------------------------------------------


def _purchase(conn: psycopg.Connection[tuple[object, ...]], transaction_id: int) -> None:
    conn.execute(
        "insert into sales.transactions (transaction_id, membership_id, created_at) "
        "values (%s, 'Lee_2b72a', '2024-01-01 10:00+00')",
        (transaction_id,),
    )


def test_a_cancelled_purchase_cannot_be_deleted(sales_db: str) -> None:
    _insert_member(sales_db, "Lee_2b72a")
    with psycopg.connect(sales_db) as conn:
        _purchase(conn, 1)
        conn.execute(
            "update sales.transactions set status = 'cancelled', "
            "cancelled_at = '2024-01-02 10:00+00' where transaction_id = 1"
        )
    with pytest.raises(psycopg.errors.CheckViolation) as raised, psycopg.connect(sales_db) as conn:
        conn.execute("delete from sales.transactions where transaction_id = 1")
    assert raised.value.diag.constraint_name == "transactions_history_kept"
    assert raised.value.diag.message_primary == (
        "transaction 1 is cancelled: only pending transactions can be deleted"
    )
    with psycopg.connect(sales_db) as conn:
        rows = conn.execute(
            "select transaction_id, status::text from sales.transactions"
        ).fetchall()
    assert rows == [(1, "cancelled")]


def test_one_finished_purchase_stops_a_delete_of_many(sales_db: str) -> None:
    _insert_member(sales_db, "Lee_2b72a")
    with psycopg.connect(sales_db) as conn:
        for transaction_id in (1, 2, 3):
            _purchase(conn, transaction_id)
        conn.execute(
            "update sales.transactions set status = 'cancelled', "
            "cancelled_at = '2024-01-02 10:00+00' where transaction_id = 2"
        )
    with pytest.raises(psycopg.errors.CheckViolation) as raised, psycopg.connect(sales_db) as conn:
        conn.execute("delete from sales.transactions")
    assert raised.value.diag.message_primary == (
        "transaction 2 is cancelled: only pending transactions can be deleted"
    )
    with psycopg.connect(sales_db) as conn:
        kept = conn.execute(
            "select transaction_id from sales.transactions order by transaction_id"
        ).fetchall()
    assert kept == [(1,), (2,), (3,)]


def test_a_pending_purchase_can_be_deleted(sales_db: str) -> None:
    _insert_member(sales_db, "Lee_2b72a")
    with psycopg.connect(sales_db) as conn:
        _purchase(conn, 1)
        _purchase(conn, 2)
        deleted = conn.execute("delete from sales.transactions where transaction_id = 1")
        assert deleted.rowcount == 1
        left = conn.execute("select transaction_id from sales.transactions").fetchall()
    assert left == [(2,)]


# --- zero spenders are never listed -------------------------------------------------------------


def test_members_who_spent_nothing_are_not_listed(sales_db: str) -> None:
    """Two spenders, one member whose only purchase was cancelled, one with an empty cart."""
    with psycopg.connect(sales_db) as conn:
        for member, last in (
            ("Ang_00001", "Ang"),
            ("Bala_00002", "Bala"),
            ("Chan_00003", "Chan"),
            ("Das_00004", "Das"),
        ):
            conn.execute(
                "insert into sales.members (membership_id, first_name, last_name, email, "
                "mobile_no, date_of_birth, above_18) values (%s, 'A', %s, %s, '81000001', "
                "'1980-01-01', true)",
                (member, last, f"{member.lower()}@x.com"),
            )
        conn.execute(
            "insert into sales.manufacturers (manufacturer_id, name) values (1, 'Acme');"
            "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, "
            "listed_at) values (1, 1, 'Kettle', 20.00, 1.500, '2023-01-01')"
        )
        for transaction_id, member in (
            (1, "Ang_00001"),
            (2, "Bala_00002"),
            (3, "Chan_00003"),
            (4, "Das_00004"),
        ):
            conn.execute(
                "insert into sales.transactions (transaction_id, membership_id, created_at) "
                "values (%s, %s, '2024-01-01 10:00+00')",
                (transaction_id, member),
            )
        conn.execute(
            "insert into sales.transaction_items (transaction_id, item_id, quantity, "
            "unit_price, unit_weight_kg) values "
            "(1, 1, 2, 20.00, 1.500), (2, 1, 1, 20.00, 1.500), (3, 1, 5, 20.00, 1.500)"
        )
        conn.execute(
            "update sales.transactions set status = 'cancelled', "
            "cancelled_at = '2024-01-02 10:00+00' where transaction_id = 3"
        )
    expected = [
        (1, "Ang_00001", "A", "Ang", Decimal("40.00"), 1),
        (2, "Bala_00002", "A", "Bala", Decimal("20.00"), 1),
    ]
    # Before a roll-up every member's spending is in sales.summary_deltas (two at zero) ...
    assert run_analyst_query(sales_db, "top-members").rows == expected
    with psycopg.connect(sales_db) as conn:
        conn.execute("select sales.roll_up_summaries()")
        # ... after it both zero spenders have a member_spending row: the rule, not a missing
        # row, hides them.
        zero = conn.execute(
            "select membership_id, total_spent from sales.member_spending "
            "where total_spent = 0 order by membership_id"
        ).fetchall()
    assert zero == [("Chan_00003", Decimal("0.00")), ("Das_00004", Decimal("0.00"))]
    assert run_analyst_query(sales_db, "top-members").rows == expected


# --- names and e-mail (survivors of tools/sql_mutations.py) -------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "constraint"),
    [
        ("first_name", "   ", "members_first_name_trimmed"),
        ("first_name", " Ann", "members_first_name_trimmed"),
        ("first_name", "Ann ", "members_first_name_trimmed"),
        ("last_name", " ", "members_last_name_not_blank"),
        ("email", "ann lee@lee.com", "members_email_format"),
        ("email", "ann@lee@com", "members_email_format"),
        ("email", "@lee.com", "members_email_format"),
        ("email", "ann@", "members_email_format"),
        ("email", "ann@lee.com ", "members_email_format"),
        ("mobile_no", "8123456", "members_mobile_no_8_digits"),
        ("mobile_no", "812345678", "members_mobile_no_8_digits"),
        ("mobile_no", "8123 4567", "members_mobile_no_8_digits"),
    ],
)
def test_malformed_member_fields_are_refused(
    sales_db: str, column: str, value: str, constraint: str
) -> None:
    fields = {
        "membership_id": "Lee_2b72a",
        "first_name": "Ann",
        "last_name": "Lee",
        "email": "ann@lee.com",
        "mobile_no": "81234567",
    } | {column: value}
    with pytest.raises(psycopg.errors.CheckViolation) as raised, psycopg.connect(sales_db) as conn:
        conn.execute(
            "insert into sales.members (membership_id, first_name, last_name, email, mobile_no, "
            "date_of_birth, above_18) values (%(membership_id)s, %(first_name)s, %(last_name)s, "
            "%(email)s, %(mobile_no)s, '1990-01-01', true)",
            fields,
        )
    assert raised.value.diag.constraint_name == constraint


def test_a_one_word_name_is_a_member_with_an_empty_first_name(sales_db: str) -> None:
    """docs/members.md: a one-word name (`Madonna`) is successful, its first_name is empty."""
    with psycopg.connect(sales_db) as conn:
        conn.execute(
            "insert into sales.members (membership_id, first_name, last_name, email, mobile_no, "
            "date_of_birth, above_18) values ('Madonna_2b72a', '', 'Madonna', 'm@m.com', "
            "'81234567', '1990-01-01', true)"
        )
        row = conn.execute(
            "select first_name, last_name from sales.members where membership_id = 'Madonna_2b72a'"
        ).fetchone()
    assert row == ("", "Madonna")


def test_a_purchase_without_line_items_cannot_be_completed(sales_db: str) -> None:
    """Survivor of tools/sql_mutations.py: no test tried to ship an empty purchase."""
    _insert_member(sales_db, "Lee_2b72a")
    with psycopg.connect(sales_db) as conn:
        _purchase(conn, 1)
    with pytest.raises(psycopg.errors.CheckViolation) as raised, psycopg.connect(sales_db) as conn:
        conn.execute(
            "update sales.transactions set status = 'completed', "
            "completed_at = '2024-01-02 10:00+00' where transaction_id = 1"
        )
    assert raised.value.diag.constraint_name == "transactions_status_lifecycle"
    assert raised.value.diag.message_primary == (
        "transaction 1: cannot be completed without line items"
    )
    with psycopg.connect(sales_db) as conn:
        row = conn.execute("select status::text from sales.transactions").fetchone()
    assert row == ("pending",)


def test_an_item_discontinued_at_the_moment_of_purchase_cannot_be_sold(sales_db: str) -> None:
    """Survivor of tools/sql_mutations.py: the boundary (discontinued_at = created_at)."""
    _insert_member(sales_db, "Lee_2b72a")
    with psycopg.connect(sales_db) as conn:
        conn.execute(
            "insert into sales.manufacturers (manufacturer_id, name) values (1, 'Acme');"
            "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, listed_at, "
            "discontinued_at) values (1, 1, 'Kettle', 20.00, 1.500, '2023-01-01', "
            "'2024-01-01 10:00+00')"
        )
        _purchase(conn, 1)  # created at 2024-01-01 10:00+00, the same instant
    with pytest.raises(psycopg.errors.CheckViolation) as raised, psycopg.connect(sales_db) as conn:
        conn.execute(
            "insert into sales.transaction_items (transaction_id, item_id, quantity, unit_price, "
            "unit_weight_kg) values (1, 1, 1, 20.00, 1.500)"
        )
    assert raised.value.diag.constraint_name == "transaction_items_item_on_sale"


@pytest.mark.parametrize("table", ["transactions", "transaction_items"])
def test_sales_history_is_never_truncated(sales_db: str, table: str) -> None:
    """Survivor of tools/sql_mutations.py: no test truncated the history (CASCADE included)."""
    with pytest.raises(psycopg.errors.CheckViolation) as raised, psycopg.connect(sales_db) as conn:
        conn.execute(sql.SQL("truncate {} cascade").format(sql.Identifier("sales", table)))
    assert raised.value.diag.message_primary == (
        f"sales.{table} holds sales history and cannot be truncated"
    )
