"""The ranking promises of the analyst SQL, on small purchases whose answer is known by hand.

From the headers of ``src/shopdata/salesdb/sql/analyst/top_members.sql`` and ``top_items.sql``: the rank is the SQL
rank (1, 2, 2, 4: a tie leaves a gap), every row tied with the 10th (3rd) is listed, equal rows
are listed by ``membership_id`` (``item_id``), items are ranked by purchases (transactions holding
the item), not by units, and nothing never bought is listed. Each answer is checked twice: while
the purchases are still in ``sales.summary_deltas`` and after ``sales.roll_up_summaries()``
moved them into the summaries, since the queries promise the same answer either way.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg

from shopdata.salesdb.queries import run_analyst_query

MEMBERS = ("Ang_00001", "Chan_00003", "Bala_00002", "Das_00004", "Eng_00005")


def _setup(url: str, purchases: list[tuple[str, list[tuple[int, int]]]], cancel: set[int]) -> None:
    """Members, five items at 10.00 each, and the purchases: (member, [(item, quantity)])."""
    with psycopg.connect(url) as conn:
        for member in MEMBERS:
            last = member.split("_")[0]
            conn.execute(
                "insert into sales.members (membership_id, first_name, last_name, email, "
                "mobile_no, date_of_birth, above_18) values (%s, 'A', %s, %s, '81000001', "
                "'1980-01-01', true)",
                (member, last, f"{last.lower()}@x.com"),
            )
        conn.execute("insert into sales.manufacturers (manufacturer_id, name) values (1, 'Acme')")
        for item in range(1, 6):
            conn.execute(
                "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, "
                "listed_at) values (%s, 1, %s, 10.00, 1.000, '2023-01-01')",
                (item, f"Item {item}"),
            )
        for transaction_id, (member, lines) in enumerate(purchases, start=1):
            conn.execute(
                "insert into sales.transactions (transaction_id, membership_id, created_at) "
                "values (%s, %s, '2024-01-01 10:00+00')",
                (transaction_id, member),
            )
            for item, quantity in lines:
                conn.execute(
                    "insert into sales.transaction_items (transaction_id, item_id, quantity, "
                    "unit_price, unit_weight_kg) values (%s, %s, %s, 10.00, 1.000)",
                    (transaction_id, item, quantity),
                )
        for transaction_id in cancel:
            conn.execute(
                "update sales.transactions set status = 'cancelled', "
                "cancelled_at = '2024-01-02 10:00+00' where transaction_id = %s",
                (transaction_id,),
            )


def _both_ways(url: str, name: str) -> list[tuple[object, ...]]:
    before = run_analyst_query(url, name).rows
    with psycopg.connect(url) as conn:
        conn.execute("select sales.roll_up_summaries()")
    after = run_analyst_query(url, name).rows
    assert before == after, "the answer changed with a roll-up"
    return after


def test_members_tied_share_a_rank_the_next_rank_skips_and_ties_list_by_id(
    sales_db: str,
) -> None:
    # Ang 40.00; Chan and Bala 20.00 each (Chan bought first); Das 10.00; Eng nothing.
    _setup(
        sales_db,
        [
            ("Ang_00001", [(1, 4)]),
            ("Chan_00003", [(1, 2)]),
            ("Bala_00002", [(2, 1), (3, 1)]),
            ("Das_00004", [(4, 1)]),
        ],
        cancel=set(),
    )
    assert [row[:2] + row[4:] for row in _both_ways(sales_db, "top-members")] == [
        (1, "Ang_00001", Decimal("40.00"), 1),
        (2, "Bala_00002", Decimal("20.00"), 1),
        (2, "Chan_00003", Decimal("20.00"), 1),
        (4, "Das_00004", Decimal("10.00"), 1),
    ]


def test_items_rank_by_purchases_not_units_and_every_tie_with_the_third_is_listed(
    sales_db: str,
) -> None:
    # Purchases: item 1 in 3, item 3 in 2, items 4 and 2 in 1 each (item 2 with 9 units, more
    # than any other), item 5 only in a cancelled purchase.
    _setup(
        sales_db,
        [
            ("Ang_00001", [(1, 1), (3, 1)]),
            ("Chan_00003", [(1, 1), (3, 1), (4, 1)]),
            ("Bala_00002", [(1, 1), (2, 9)]),
            ("Das_00004", [(5, 1)]),
        ],
        cancel={4},
    )
    assert [(row[0], row[1], row[4], row[5]) for row in _both_ways(sales_db, "top-items")] == [
        (1, 1, 3, 3),
        (2, 3, 2, 2),
        (3, 2, 1, 9),
        (3, 4, 1, 1),
    ]


def test_items_never_bought_are_not_listed_even_with_room_in_the_top_three(sales_db: str) -> None:
    # Item 1 bought once; item 2 only in a cancelled purchase (its summary row is at zero).
    _setup(sales_db, [("Ang_00001", [(1, 2)]), ("Bala_00002", [(2, 1)])], cancel={2})
    assert [(row[0], row[1], row[4], row[5]) for row in _both_ways(sales_db, "top-items")] == [
        (1, 1, 1, 2),
    ]
