"""analytics.member_spending is exact between roll-ups (the merge of member_key with the deltas).

The view is what analysts rank members by (they may not read membership_id). Writers append
signed rows to sales.summary_deltas and the roll-up folds them in later, so the view must add
the pending deltas: before a roll-up, after it, and after a cancellation that is still pending.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg

MEMBERS = (("Ang_00001", "Ang"), ("Bala_00002", "Bala"), ("Chan_00003", "Chan"))


def _spending(conn: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """The view's rows, by membership_id (the owner maps member_key back to it)."""
    return conn.execute(
        "select m.membership_id, v.total_spent, v.transaction_count"
        " from analytics.member_spending as v"
        " inner join sales.members as m on v.member_key = m.member_key"
        " order by m.membership_id"
    ).fetchall()


def test_the_analysts_spending_view_counts_deltas_not_yet_rolled_up(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        for member, last in MEMBERS:
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
        for transaction_id, member in ((1, "Ang_00001"), (2, "Ang_00001"), (3, "Bala_00002")):
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
        conn.commit()
        pending = conn.execute("select count(*) from sales.summary_deltas").fetchone()
        assert pending is not None and pending[0] > 0
        expected = [
            ("Ang_00001", Decimal("60.00"), 2),
            ("Bala_00002", Decimal("100.00"), 1),
        ]
        assert _spending(conn) == expected

        conn.execute("select sales.roll_up_summaries()")
        conn.commit()
        assert _spending(conn) == expected

        # A cancellation not yet rolled up: its negative delta already counts.
        conn.execute(
            "update sales.transactions set status = 'cancelled', "
            "cancelled_at = '2024-01-02 10:00+00' where transaction_id = 3"
        )
        conn.commit()
        assert _spending(conn) == [
            ("Ang_00001", Decimal("60.00"), 2),
            ("Bala_00002", Decimal("0.00"), 0),
        ]
