"""Check constraints of the sales schema, tried at their boundary.

Written from the schema's own constraint names (each says its promise) for the SQL mutations
that no test killed (docs/testing.md, ``tools/sql_mutations.py``): a check weakened by a little
(one day earlier, ``>= 0`` for ``> 0``) must still be caught, so each test writes a value just
past the boundary, on a fresh database built from ``src/shopdata/salesdb/sql/initdb`` (the real server), and expects
PostgreSQL's check violation with that constraint's name. The value at the boundary itself is
accepted (so the test does not pass by refusing everything).
"""

from __future__ import annotations

import psycopg
import pytest

MEMBER = (
    "insert into sales.members (membership_id, first_name, last_name, email, mobile_no, "
    "date_of_birth, above_18, joined_at, status_changed_at) values "
    "(%s, 'Ann', 'Lee', 'ann@lee.com', '81234567', '1990-01-01', true, %s, %s)"
)
CATALOG = (
    "insert into sales.manufacturers (manufacturer_id, name) values (1, 'Acme');"
    "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, listed_at) "
    "values (1, 1, 'Kettle', 20.00, 1.500, '2023-01-01')"
)
ITEM = (
    "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, listed_at, "
    "discontinued_at) values (%s, 1, %s, %s, %s, '2024-01-01 10:00+00', %s)"
)


def _refused(url: str, statement: str, params: tuple[object, ...], constraint: str) -> None:
    with pytest.raises(psycopg.errors.CheckViolation) as raised, psycopg.connect(url) as conn:
        conn.execute(statement, params)
    assert raised.value.diag.constraint_name == constraint


def test_a_membership_status_never_changes_before_the_member_joined(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        conn.execute(MEMBER, ("Lee_2b72a", "2024-01-02 10:00+00", "2024-01-02 10:00+00"))
    _refused(
        sales_db,
        MEMBER,
        ("Lee_2b72b", "2024-01-02 10:00+00", "2024-01-02 09:00+00"),
        "members_status_changed_after_join",
    )


def test_items_weigh_something_and_cost_nothing_or_more(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        conn.execute(CATALOG)
        conn.execute(ITEM, (2, "Free sample", "0.00", "0.001", None))
    _refused(sales_db, ITEM, (3, "Feather", "1.00", "0.000", None), "items_weight_positive")
    _refused(sales_db, ITEM, (4, "Rebate", "-0.01", "1.000", None), "items_cost_nonnegative")


def test_an_item_is_discontinued_no_earlier_than_it_was_listed(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        conn.execute(CATALOG)
        conn.execute(ITEM, (2, "Same day", "1.00", "1.000", "2024-01-01 10:00+00"))
    _refused(
        sales_db,
        ITEM,
        (3, "Before listing", "1.00", "1.000", "2024-01-01 09:00+00"),
        "items_discontinued_after_listed",
    )


def test_a_line_item_holds_at_least_one_unit(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        conn.execute(MEMBER, ("Lee_2b72a", "2023-01-01 10:00+00", "2023-01-01 10:00+00"))
        conn.execute(CATALOG)
        conn.execute(
            "insert into sales.transactions (transaction_id, membership_id, created_at) "
            "values (1, 'Lee_2b72a', '2024-01-01 10:00+00')"
        )
    _refused(
        sales_db,
        "insert into sales.transaction_items (transaction_id, item_id, quantity, unit_price, "
        "unit_weight_kg) values (1, 1, %s, 20.00, 1.500)",
        (0,),
        "transaction_items_quantity_positive",
    )


def test_a_purchase_is_completed_no_earlier_than_it_was_made(sales_db: str) -> None:
    purchase = (
        "insert into sales.transactions (transaction_id, membership_id, status, created_at, "
        "completed_at) values (%s, 'Lee_2b72a', 'completed', '2024-01-01 10:00+00', %s)"
    )
    with psycopg.connect(sales_db) as conn:
        conn.execute(MEMBER, ("Lee_2b72a", "2023-01-01 10:00+00", "2023-01-01 10:00+00"))
        conn.execute(purchase, (1, "2024-01-01 10:00+00"))
    _refused(sales_db, purchase, (2, "2024-01-01 09:00+00"), "transactions_completed_after_created")


def test_member_key_is_handed_out_by_the_database_never_chosen_by_a_writer(
    sales_db: str,
) -> None:
    """020_members.sql: member_key is "handed out by the database, never reused"."""
    with pytest.raises(psycopg.errors.GeneratedAlways), psycopg.connect(sales_db) as conn:
        conn.execute(
            "insert into sales.members (membership_id, first_name, last_name, email, mobile_no, "
            "date_of_birth, above_18, member_key) values ('Lee_2b72a', 'Ann', 'Lee', "
            "'ann@lee.com', '81234567', '1990-01-01', true, 7)"
        )
