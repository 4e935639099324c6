"""A roll-up adds the pending deltas to the summaries; it never replaces what they held.

050_summaries.sql: member_spending and item_sales plus sales.summary_deltas are exactly the
sums over the base tables. Two roll-ups with purchases before each: after the second, the
summaries hold both purchases (a roll-up that wrote the delta instead of adding it would keep
only the second).
"""

from __future__ import annotations

from decimal import Decimal

import psycopg


def test_a_second_roll_up_adds_to_what_the_first_one_wrote(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        conn.execute(
            "insert into sales.members (membership_id, first_name, last_name, email, mobile_no, "
            "date_of_birth, above_18) values ('Lee_2b72a', 'Ann', 'Lee', 'ann@lee.com', "
            "'81234567', '1990-01-01', true)"
        )
        conn.execute(
            "insert into sales.manufacturers (manufacturer_id, name) values (1, 'Acme');"
            "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, "
            "listed_at) values (1, 1, 'Kettle', 20.00, 1.500, '2023-01-01')"
        )
        for transaction_id, quantity in ((1, 2), (2, 3)):
            conn.execute(
                "insert into sales.transactions (transaction_id, membership_id, created_at) "
                "values (%s, 'Lee_2b72a', '2024-01-01 10:00+00')",
                (transaction_id,),
            )
            conn.execute(
                "insert into sales.transaction_items (transaction_id, item_id, quantity, "
                "unit_price, unit_weight_kg) values (%s, 1, %s, 20.00, 1.500)",
                (transaction_id, quantity),
            )
            conn.execute("select sales.roll_up_summaries()")
        member = conn.execute(
            "select total_spent, transaction_count from sales.member_spending"
        ).fetchall()
        item = conn.execute(
            "select item_id, purchase_count, units_sold, revenue from sales.item_sales"
        ).fetchall()
    assert member == [(Decimal("100.00"), 2)]
    assert item == [(1, 2, 5, Decimal("100.00"))]
