"""The purchase -> member foreign key is checked at COMMIT, and still refuses unknown members.

Deferred (issue 13, goal 2): a purchase's per-line totals UPDATE no longer re-checks the member
once per line. The promises that stay: an unknown member is refused with the foreign key's
message and nothing of the purchase is kept; a member with purchases cannot be deleted; the CSV
loader still names the file line (tests/salesdb/test_load_sales.py, "unknown-membership-id");
a bulk load puts the key back exactly as declared.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from shopdata.salesdb import purchases
from shopdata.salesdb.queries import run_sql_file

from .helpers import apply_sql_file

COUNTS = (
    "select (select count(*) from sales.transactions), (select count(*) from"
    " sales.transaction_items), (select count(*) from sales.summary_deltas)"
)
NOT_PRESENT = 'Key (membership_id)=(Nobody_00000) is not present in table "members".'


def _fixture(url: str) -> None:
    """The hand-built sales, with the identities moved past their explicit ids."""
    apply_sql_file(url, "fixture_sales.sql")
    with psycopg.connect(url) as conn:
        run_sql_file(conn, "salesdb/sync_identities.sql")


def _counts(url: str) -> tuple[int, int, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(COUNTS).fetchone()
    assert row is not None
    return (int(row[0]), int(row[1]), int(row[2]))


def test_the_member_key_is_deferred_at_commit(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        row = conn.execute(
            "select condeferrable, condeferred from pg_constraint"
            " where conname = 'transactions_membership_id_fkey'"
        ).fetchone()
    assert row == (True, True)


def test_unknown_member_is_refused_at_commit_and_nothing_is_kept(sales_db: str) -> None:
    _fixture(sales_db)
    before = _counts(sales_db)
    with psycopg.connect(sales_db) as conn:
        row = conn.execute(
            "insert into sales.transactions (membership_id) values ('Nobody_00000')"
            " returning transaction_id"
        ).fetchone()
        assert row is not None
        conn.execute(
            "insert into sales.transaction_items"
            " (transaction_id, item_id, quantity, unit_price, unit_weight_kg)"
            " values (%s, 1, 2, 20.00, 1.500), (%s, 3, 1, 5.00, 0.300)",
            (row[0], row[0]),
        )
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as caught:
            conn.commit()
    assert caught.value.diag.constraint_name == "transactions_membership_id_fkey"
    assert caught.value.diag.message_primary == (
        'insert or update on table "transactions" violates foreign key constraint'
        ' "transactions_membership_id_fkey"'
    )
    assert caught.value.diag.message_detail == NOT_PRESENT
    assert _counts(sales_db) == before
    with psycopg.connect(sales_db) as conn:
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []


def test_a_single_autocommit_insert_is_refused_by_its_own_statement(sales_db: str) -> None:
    _fixture(sales_db)
    before = _counts(sales_db)
    with (
        psycopg.connect(sales_db, autocommit=True) as conn,
        pytest.raises(psycopg.errors.ForeignKeyViolation) as caught,
    ):
        conn.execute("insert into sales.transactions (membership_id) values ('Nobody_00000')")
    assert caught.value.diag.message_detail == NOT_PRESENT
    assert _counts(sales_db) == before


def test_add_purchase_with_an_unknown_member_fails_once_without_retry(sales_db: str) -> None:
    _fixture(sales_db)
    before = _counts(sales_db)
    stats = purchases.RetryStats()
    line = (1, 2, Decimal("20.00"), Decimal("1.500"))
    with (
        psycopg.connect(sales_db) as conn,
        pytest.raises(psycopg.errors.ForeignKeyViolation) as caught,
    ):
        purchases.run(
            conn, lambda c: purchases.add_purchase(c, "Nobody_00000", [line]), stats=stats
        )
    assert caught.value.diag.message_detail == NOT_PRESENT
    assert stats.retries == {}
    assert _counts(sales_db) == before


def test_a_member_with_purchases_cannot_be_deleted(sales_db: str) -> None:
    """Refused by the DELETE itself (ON DELETE RESTRICT is never deferred), not at COMMIT."""
    _fixture(sales_db)
    with psycopg.connect(sales_db) as conn:
        with pytest.raises(psycopg.errors.RestrictViolation) as caught:
            conn.execute("delete from sales.members where membership_id = 'Ang_00001'")
        conn.rollback()
    assert caught.value.diag.message_detail == (
        'Key (membership_id)=(Ang_00001) is referenced from table "transactions".'
    )
    assert caught.value.diag.message_primary == (
        'update or delete on table "members" violates RESTRICT setting of foreign key'
        ' constraint "transactions_membership_id_fkey" on table "transactions"'
    )
    with psycopg.connect(sales_db) as conn:
        row = conn.execute(
            "select count(*) from sales.members where membership_id = 'Ang_00001'"
        ).fetchone()
    assert row == (1,)


def test_a_member_with_purchases_cannot_be_deleted_and_inserted_again(sales_db: str) -> None:
    """Found by the outside tester of issue 13: with the key checked only at COMMIT, deleting a
    member and inserting the same membership_id again in one transaction passed the check, and
    the delete cascaded to the member's summary row: the top spender vanished from top-members
    and `db check` reported `member_spending Ang_00001: stored /, recomputed 200.00/1`."""
    _fixture(sales_db)
    with psycopg.connect(sales_db) as conn:
        conn.execute("select sales.roll_up_summaries()")
        conn.commit()
        conn.execute(
            "create temporary table m as select membership_id, first_name, last_name, email,"
            " mobile_no, date_of_birth, above_18, status, status_changed_at, joined_at"
            " from sales.members where membership_id = 'Ang_00001'"
        )
        with pytest.raises(psycopg.errors.RestrictViolation) as caught:
            conn.execute("delete from sales.members where membership_id = 'Ang_00001'")
            conn.execute(
                "insert into sales.members (membership_id, first_name, last_name, email,"
                " mobile_no, date_of_birth, above_18, status, status_changed_at, joined_at)"
                " select * from m"
            )
            conn.commit()
        conn.rollback()
    assert caught.value.diag.constraint_name == "transactions_membership_id_fkey"
    with psycopg.connect(sales_db) as conn:
        row = conn.execute(
            "select s.total_spent, s.transaction_count, m.member_key from sales.member_spending"
            " as s join sales.members as m using (membership_id)"
            " where membership_id = 'Ang_00001'"
        ).fetchone()
        assert row is not None and (str(row[0]), row[1], row[2]) == ("200.00", 1, 1)
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []


def test_a_member_with_purchases_keeps_its_membership_id(sales_db: str) -> None:
    """Renaming the key, then pointing nothing at the new one, is refused at the UPDATE too."""
    _fixture(sales_db)
    with psycopg.connect(sales_db) as conn:
        with pytest.raises(psycopg.errors.RestrictViolation) as caught:
            conn.execute(
                "update sales.members set membership_id = 'Ang_00099'"
                " where membership_id = 'Ang_00001'"
            )
        conn.rollback()
    assert caught.value.diag.constraint_name == "transactions_membership_id_fkey"


def test_a_bulk_load_puts_the_member_key_back_deferred(sales_db: str) -> None:
    _fixture(sales_db)
    with psycopg.connect(sales_db) as conn:
        conn.execute("select sales.begin_bulk_load()")
        with conn.cursor().copy(
            "copy sales.transactions (transaction_id, membership_id, created_at) from stdin"
        ) as copy:
            copy.write_row((1000, "Bala_00002", "2024-03-01 10:00+00"))
        row = conn.execute("select sales.finish_bulk_load()").fetchone()
        assert row == (1,)
        conn.commit()
        row = conn.execute(
            "select condeferrable, condeferred, pg_get_constraintdef(oid) from pg_constraint"
            " where conname = 'transactions_membership_id_fkey'"
        ).fetchone()
    assert row == (
        True,
        True,
        "FOREIGN KEY (membership_id) REFERENCES sales.members(membership_id)"
        " ON UPDATE RESTRICT ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED",
    )
