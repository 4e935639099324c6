"""The trigger-maintained summaries and totals stay exactly equal to a recomputation from the
base tables through seeding, inserts, line updates and deletes, completions, cancellations and
price changes; and the frozen-history rules hold."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from shopdata.salesdb.queries import run_sql_file
from shopdata.salesdb.seed import SeedPlan, seed

SMALL = SeedPlan(members=60, items=25, transactions=400, seed=7, chunk_transactions=150)


def _check(url: str) -> None:
    with psycopg.connect(url) as conn:
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []
        assert (
            run_sql_file(conn, "analyst/top_members.sql").rows
            == run_sql_file(conn, "salesdb/reference_top_members.sql").rows
        )
        assert (
            run_sql_file(conn, "analyst/top_items.sql").rows
            == run_sql_file(conn, "salesdb/reference_top_items.sql").rows
        )


def test_seed_is_reproducible_and_consistent(pg_server: Any, sales_template: str) -> None:
    fingerprints = []
    for _ in range(2):
        name = pg_server.unique_name("seed")
        url = pg_server.create_database(name, template=sales_template)
        try:
            report = seed(url, SMALL)
            assert (report.members, report.manufacturers, report.items, report.transactions) == (
                60,
                1,
                25,
                400,
            )
            _check(url)
            with psycopg.connect(url) as conn:
                fingerprints.append(
                    conn.execute(
                        "select count(*), sum(quantity), sum(quantity * unit_price),"
                        " (select count(*) from sales.transactions where status = 'cancelled'),"
                        " (select count(*) from sales.items where discontinued_at is not null)"
                        " from sales.transaction_items"
                    ).fetchone()
                )
        finally:
            pg_server.drop_database(name)
    assert fingerprints[0] == fingerprints[1]
    assert fingerprints[0][0] == report.line_items


def test_seed_twice_adds_nothing_the_second_time(sales_db: str) -> None:
    seed(sales_db, SMALL)
    assert seed(sales_db, SMALL).skipped_existing == 400


def _random_operation(conn: psycopg.Connection[Any], rnd: random.Random) -> None:
    pending = [
        r[0]
        for r in conn.execute(
            "select transaction_id from sales.transactions where status = 'pending'"
            " order by transaction_id"
        )
    ]
    on_sale = [
        r
        for r in conn.execute(
            "select item_id, cost, weight_kg from sales.items where discontinued_at is null"
            " order by item_id"
        )
    ]
    members = [r[0] for r in conn.execute("select membership_id from sales.members order by 1")]
    op = rnd.choice(
        ["insert", "insert", "quantity", "delete_line", "complete", "cancel", "drop", "price"]
    )
    if op == "insert" or not pending:
        row = conn.execute(
            "insert into sales.transactions (membership_id) values (%s) returning transaction_id",
            (rnd.choice(members),),
        ).fetchone()
        assert row is not None
        for item_id, cost, weight in rnd.sample(on_sale, rnd.randint(1, 3)):
            conn.execute(
                "insert into sales.transaction_items values (%s, %s, %s, %s, %s)",
                (row[0], item_id, rnd.randint(1, 4), cost, weight),
            )
        return
    tx = rnd.choice(pending)
    if op == "quantity":
        conn.execute(
            "update sales.transaction_items set quantity = quantity + %s where transaction_id = %s",
            (rnd.randint(1, 3), tx),
        )
    elif op == "delete_line":
        conn.execute(
            "delete from sales.transaction_items where ctid in (select ctid from"
            " sales.transaction_items where transaction_id = %s limit 1)",
            (tx,),
        )
    elif op == "complete":
        conn.execute(
            "update sales.transactions set status = 'completed', completed_at = now()"
            " where transaction_id = %s and total_quantity > 0",
            (tx,),
        )
    elif op == "cancel":
        conn.execute(
            "update sales.transactions set status = 'cancelled', cancelled_at = now()"
            " where transaction_id = %s",
            (tx,),
        )
    elif op == "drop":
        conn.execute("delete from sales.transaction_items where transaction_id = %s", (tx,))
        conn.execute("delete from sales.transactions where transaction_id = %s", (tx,))
    else:
        item_id = rnd.choice(on_sale)[0]
        conn.execute("update sales.items set cost = cost + 1.25 where item_id = %s", (item_id,))


def test_random_changes_keep_summaries_exact(sales_db: str) -> None:
    seed(sales_db, SMALL)
    rnd = random.Random(3)
    with psycopg.connect(sales_db) as conn:
        for _ in range(150):
            with conn.transaction():
                _random_operation(conn, rnd)
    _check(sales_db)


def test_bulk_cancellation_moves_lines_out_of_item_sales(sales_db: str) -> None:
    seed(sales_db, SMALL)
    with psycopg.connect(sales_db) as conn:
        conn.execute(
            "update sales.transactions set status = 'cancelled', cancelled_at = now()"
            " where status = 'pending'"
        )
        conn.commit()
    _check(sales_db)


FROZEN = [
    ("update sales.transaction_items set quantity = 9 where transaction_id = 1 and item_id = 1",
     "line item (transaction_id=1, item_id=1): transaction 1 is completed, its line items can no longer change"),
    ("delete from sales.transaction_items where transaction_id = 13",
     "line item (transaction_id=13, item_id=2): transaction 13 is cancelled, its line items can no longer change"),
    ("insert into sales.transaction_items values (1, 5, 1, 1.00, 0.050)",
     "line item (transaction_id=1, item_id=5): transaction 1 is completed, its line items can no longer change"),
    ("update sales.transactions set status = 'pending', completed_at = null where transaction_id = 1",
     "transaction 1: status cannot change from completed to pending (only pending -> completed or pending -> cancelled)"),
    ("delete from sales.transactions where transaction_id = 2",
     "update or delete on table \"transactions\" violates foreign key constraint \"transaction_items_transaction_id_fkey\" on table \"transaction_items\""),
    ("insert into sales.transactions (membership_id, total_price) values ('Ang_00001', 10)",
     "transaction 15: a new transaction starts with zero totals; they are maintained by the database from its line items"),
    ("update sales.transactions set total_weight_kg = 0 where transaction_id = 3",
     "transaction 3: total_price, total_weight_kg and total_quantity are maintained by the database from its line items and cannot be written directly"),
    ("truncate sales.transaction_items",
     "sales.transaction_items holds sales history and cannot be truncated"),
    ("delete from sales.items where item_id = 2",
     "item 2 has been sold and cannot be deleted: set discontinued_at to remove it from sale"),
]  # fmt: skip


@pytest.mark.parametrize(("statement", "message"), FROZEN)
def test_history_is_protected(sales_db: str, statement: str, message: str) -> None:
    from .helpers import apply_sql_file

    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        conn.execute(
            "select setval(pg_get_serial_sequence('sales.transactions', 'transaction_id'), 14)"
        )
        conn.commit()
        with pytest.raises(psycopg.errors.IntegrityError) as excinfo:
            conn.execute(statement.encode())
    assert excinfo.value.diag.message_primary == message
    _check(sales_db)


def test_never_sold_item_can_be_deleted_and_sold_one_discontinued(sales_db: str) -> None:
    from .helpers import apply_sql_file

    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        conn.execute(
            "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg) values (6, 1, 'Fork', 1.00, 0.05)"
        )
        conn.execute("delete from sales.items where item_id = 6")
        conn.execute("update sales.items set discontinued_at = now() where item_id = 2")
        row = conn.execute(
            "select count(*), sum(quantity * unit_price) from sales.transaction_items where item_id = 2"
        ).fetchone()
    assert row == (3, Decimal("3745.00"))


def test_bulk_load_path_is_exact_too(sales_db: str) -> None:
    from dataclasses import replace

    report = seed(sales_db, replace(SMALL, bulk_threshold=1))
    assert report.bulk is True
    _check(sales_db)
    with psycopg.connect(sales_db) as conn:
        constraints = conn.execute(
            "select count(*) from pg_constraint where contype = 'f'"
            " and connamespace = 'sales'::regnamespace"
        ).fetchone()
        disabled = conn.execute(
            "select count(*) from pg_trigger where not tgisinternal and tgenabled = 'D'"
        ).fetchone()
    assert constraints == (6,) and disabled == (0,)  # everything restored


def test_unfinished_bulk_load_cannot_commit(sales_db: str) -> None:
    with psycopg.connect(sales_db) as conn:
        conn.execute("select sales.begin_bulk_load()")
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation) as excinfo:
            conn.commit()
    assert excinfo.value.diag.message_primary == (
        "a bulk load was begun but not finished: call sales.finish_bulk_load() before committing"
    )
    with psycopg.connect(sales_db) as conn:
        row = conn.execute(
            "select count(*) from pg_constraint where contype = 'f'"
            " and connamespace = 'sales'::regnamespace"
        ).fetchone()
    assert row == (6,)  # the whole attempt rolled back


BULK_ERRORS = [
    pytest.param(
        "insert into sales.transactions (transaction_id, membership_id, created_at, total_price,"
        " total_weight_kg, total_quantity) values (15, 'Ang_00001', '2024-03-01', 41.00, 3.000, 2)",
        "insert into sales.transaction_items values (15, 1, 2, 20.00, 1.500)",
        "bulk load: transaction 15 has totals 41.00 / 3.000 kg / 2 units but its line items sum"
        " to 40.00 / 3.000 kg / 2 units",
        id="totals-differ",
    ),
    pytest.param(
        "insert into sales.transactions (transaction_id, membership_id, created_at, total_price,"
        " total_weight_kg, total_quantity) values (15, 'Ang_00001', '2024-03-01', 1.00, 0.050, 1)",
        "insert into sales.transaction_items values (15, 6, 1, 1.00, 0.050)",
        "line item (transaction_id=15, item_id=6): item 6 was discontinued at"
        " 2024-02-01 00:00:00+00, before the transaction was made",
        id="discontinued-item",
    ),
    pytest.param(
        "select 1",
        "insert into sales.transaction_items values (3, 5, 1, 1.00, 0.050)",
        "bulk load: line item (transaction_id=3, item_id=5) belongs to a transaction that"
        " existed before the load; bulk loads only add new ones",
        id="old-history-touched",
    ),
]


@pytest.mark.parametrize(("tx", "line", "message"), BULK_ERRORS)
def test_bulk_load_rejects_what_triggers_would(
    sales_db: str, tx: str, line: str, message: str
) -> None:
    from .helpers import apply_sql_file

    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        # A historical removal is loaded with the item (an UPDATE may only discontinue now or
        # later, see test_discontinuing_is_never_retroactive).
        conn.execute(
            "insert into sales.items (item_id, manufacturer_id, name, cost, weight_kg, listed_at,"
            " discontinued_at) values (6, 2, 'Fork', 1.00, 0.050, '2023-01-01', '2024-02-01+00')"
        )
        conn.commit()
        conn.execute("select sales.begin_bulk_load()")
        conn.execute(tx.encode())
        conn.execute(line.encode())
        with pytest.raises(psycopg.errors.CheckViolation) as excinfo:
            conn.execute("select sales.finish_bulk_load()")
    assert excinfo.value.diag.message_primary == message
    _check(sales_db)
