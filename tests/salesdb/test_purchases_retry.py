"""purchases.run() retries a real deadlock, and runs its work in a database transaction of its own.

The issue allows a retry helper in the Python API "tested"; until the outside test of issue 13 no
test had made it retry (the concurrency test asserts that the lock order never needs it). Here two
real sessions deadlock on two purchases; the victim is the helper's, which must start its
transaction again and succeed. A connection already inside a transaction (psycopg opens one on
the first query of a non-autocommit connection) would have made ``conn.transaction()`` a
SAVEPOINT inside it: a retry could not release the locks the deadlock was about, a serialisation
failure would repeat in the same snapshot, and nothing was committed when run() returned.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest

from shopdata.salesdb import purchases

from .helpers import apply_sql_file

LOCK = "select status from sales.transactions where transaction_id = %s for no key update"


def test_run_retries_a_deadlock_and_succeeds(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")  # purchases 3 (pending) and 13 (cancelled)
    with psycopg.connect(sales_db, autocommit=True) as conn:
        conn.execute(
            "insert into sales.transactions (transaction_id, membership_id)"
            " values (21, 'Ang_00001'), (22, 'Bala_00002')"
        )
    first_lock_held = threading.Event()
    attempts: list[int] = []

    def work(c: psycopg.Connection[Any]) -> str:
        attempts.append(1)
        c.execute(LOCK, (22,))
        if len(attempts) == 1:
            first_lock_held.set()
            time.sleep(0.1)  # then wait for 21, which the other session holds
        row = c.execute(LOCK, (21,)).fetchone()
        assert row is not None
        return str(row[0])

    stats = purchases.RetryStats()
    other_failed: list[str] = []

    def other() -> None:
        with psycopg.connect(sales_db) as conn:
            conn.execute(LOCK, (21,))
            assert first_lock_held.wait(20)
            time.sleep(0.5)  # wait for 22 well after the helper began waiting for 21
            try:
                # deadlock_timeout (1 s) runs out first for the helper's session, which waits
                # longest: it is the victim, and this session gets 22 once it has rolled back.
                conn.execute(LOCK, (22,))
            except psycopg.errors.DeadlockDetected as error:
                other_failed.append(str(error))
            time.sleep(0.2)
            conn.rollback()

    thread = threading.Thread(target=other)
    thread.start()
    with psycopg.connect(sales_db) as conn:
        status = purchases.run(conn, work, stats=stats)
    thread.join(30)
    assert other_failed == []
    assert status == "pending"
    assert stats.retries == {"40P01": 1}
    assert len(attempts) == 2


def test_run_refuses_a_connection_already_in_a_transaction(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        conn.execute("select 1")  # psycopg has opened a transaction
        with pytest.raises(ValueError) as caught:
            purchases.run(conn, lambda c: purchases.add_purchase(c, "Ang_00001", []))
        assert str(caught.value) == (
            "purchases.run() needs a connection outside any transaction (it commits its work"
            " and retries it from the start): commit or roll back first"
        )
        conn.rollback()
        count = conn.execute("select count(*) from sales.transactions").fetchone()
    assert count == (14,)


def test_run_commits_its_work(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db, autocommit=True) as conn:
        conn.execute(
            "select setval(pg_get_serial_sequence('sales.transactions', 'transaction_id'), 14)"
        )
    with psycopg.connect(sales_db) as conn:
        tx = purchases.run(conn, lambda c: purchases.add_purchase(c, "Ang_00001", []))
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with psycopg.connect(sales_db) as conn:
        row = conn.execute(
            "select membership_id from sales.transactions where transaction_id = %s", (tx,)
        ).fetchone()
    assert row == ("Ang_00001",)
