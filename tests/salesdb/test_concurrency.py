"""Exact under concurrent writers: line writers, quantity changes, cancellations, logistics
completions, deletions and the summary roll-up race for ~20 s on real connections; afterwards
`db check` is clean, the analyst answers equal their base-table references, no line of a
purchase changed after its status did, and the lock order produced no deadlock."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from shopdata.salesdb import purchases
from shopdata.salesdb.queries import run_sql_file
from shopdata.salesdb.seed import SeedPlan, seed

SECONDS = 20.0
#: What a worker may legitimately be refused: the purchase stopped being pending (frozen lines),
#: was deleted (foreign key) or already holds the item (primary key). Anything else fails.
EXPECTED_REFUSALS = {
    ("23514", "transaction_items_frozen_after_pending"),
    ("23503", "transaction_items_transaction_id_fkey"),
    ("23505", "transaction_items_pkey"),
}


class Workload:
    """Shared state of the workers: pending purchases, catalogue, outcomes, failures."""

    def __init__(self, url: str, deadline: float) -> None:
        self.url = url
        self.deadline = deadline
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []
        #: transaction_id -> its lines (item_id, quantity) as they were when its status changed.
        self.frozen: dict[int, frozenset[tuple[int, int]]] = {}
        self.stats = purchases.RetryStats()
        with psycopg.connect(url) as conn:
            self.members = [r[0] for r in conn.execute("select membership_id from sales.members")]
            self.items = conn.execute(
                "select item_id, cost, weight_kg from sales.items"
                " where discontinued_at is null order by item_id"
            ).fetchall()

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1

    def pending(self, conn: psycopg.Connection[Any], rnd: random.Random) -> int | None:
        row = conn.execute(
            "select transaction_id from sales.transactions where status = 'pending'"
            " order by transaction_id desc offset %s limit 1",
            (rnd.randrange(40),),
        ).fetchone()
        conn.rollback()
        return None if row is None else int(row[0])

    def item(self, rnd: random.Random) -> tuple[int, Decimal, Decimal]:
        chosen = self.items[0] if rnd.random() < 0.5 else rnd.choice(self.items)
        return int(chosen[0]), chosen[1], chosen[2]


def _line_writer(work: Workload, rnd: random.Random, conn: psycopg.Connection[Any]) -> None:
    """A plain INSERT of a line into some recent pending purchase, or a new purchase."""
    if rnd.random() < 0.3:
        lines = []
        for item_id, cost, weight in {work.item(rnd) for _ in range(rnd.randint(1, 3))}:
            lines.append((item_id, rnd.randint(1, 3), cost, weight))
        members = work.members
        purchases.run(conn, lambda c: purchases.add_purchase(c, rnd.choice(members), lines))
        work.count("purchase added")
        return
    tx = work.pending(conn, rnd)
    if tx is None:
        return
    item_id, cost, weight = work.item(rnd)
    conn.execute(
        "insert into sales.transaction_items values (%s, %s, %s, %s, %s)",
        (tx, item_id, rnd.randint(1, 4), cost, weight),
    )
    conn.commit()
    work.count("line added")


def _quantity_changer(work: Workload, rnd: random.Random, conn: psycopg.Connection[Any]) -> None:
    tx = work.pending(conn, rnd)
    if tx is None:
        return
    item_id, _, _ = work.item(rnd)
    changed = purchases.run(
        conn, lambda c: purchases.change_quantity(c, tx, item_id, rnd.randint(1, 5))
    )
    work.count("quantity changed" if changed else "quantity unchanged")


def _status_changer(status: str) -> Callable[[Workload, random.Random, Any], None]:
    def change(work: Workload, rnd: random.Random, conn: psycopg.Connection[Any]) -> None:
        tx = work.pending(conn, rnd)
        if tx is None:
            return

        def body(c: psycopg.Connection[Any]) -> frozenset[tuple[int, int]] | None:
            if not purchases.set_status(c, tx, status):
                return None
            # Still inside the transaction holding the purchase's lock: these are its lines
            # at the moment the status changes, which nobody may alter afterwards.
            rows = c.execute(
                "select item_id, quantity from sales.transaction_items where transaction_id = %s",
                (tx,),
            ).fetchall()
            return frozenset((int(i), int(q)) for i, q in rows)

        lines = purchases.run(conn, body, stats=work.stats)
        if lines is not None:
            with work.lock:
                work.frozen[tx] = lines
        work.count(f"{status}" if lines is not None else f"{status}: not pending")

    return change


def _deleter(work: Workload, rnd: random.Random, conn: psycopg.Connection[Any]) -> None:
    tx = work.pending(conn, rnd)
    if tx is None:
        return
    deleted = purchases.run(conn, lambda c: purchases.delete_purchase(c, tx), stats=work.stats)
    work.count("deleted" if deleted else "delete: not pending")


def _roll_up(work: Workload, rnd: random.Random, conn: psycopg.Connection[Any]) -> None:
    conn.execute("select sales.roll_up_summaries()")
    conn.commit()
    work.count("roll-up")
    time.sleep(0.2)


def _worker(
    work: Workload, seed_value: int, step: Callable[[Workload, random.Random, Any], None]
) -> None:
    rnd = random.Random(seed_value)
    try:
        with psycopg.connect(work.url) as conn:
            while time.monotonic() < work.deadline:
                try:
                    step(work, rnd, conn)
                except psycopg.Error as error:
                    conn.rollback()
                    refusal = (error.sqlstate, error.diag.constraint_name)
                    if refusal in EXPECTED_REFUSALS:
                        work.count(f"refused {refusal[1]}")
                    else:
                        raise
    except Exception as error:  # reported by the test
        with work.lock:
            work.failures.append(f"{step.__name__}: {type(error).__name__}: {error}")


def test_concurrent_writers_keep_everything_exact(sales_db: str) -> None:
    seed(sales_db, SeedPlan(members=80, items=12, transactions=300, seed=11))
    work = Workload(sales_db, time.monotonic() + SECONDS)
    steps: list[Callable[[Workload, random.Random, Any], None]] = [
        _line_writer,
        _line_writer,
        _line_writer,
        _quantity_changer,
        _status_changer("cancelled"),
        _status_changer("completed"),
        _deleter,
        _roll_up,
    ]
    threads = [
        threading.Thread(target=_worker, args=(work, n, step), name=f"w{n}")
        for n, step in enumerate(steps)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=SECONDS + 60)
    assert not any(thread.is_alive() for thread in threads)
    assert work.failures == []
    # Every kind of operation really happened, many times, and raced the others.
    for outcome in ("purchase added", "line added", "quantity changed", "cancelled",
                    "completed", "deleted", "roll-up"):  # fmt: skip
        assert work.outcomes[outcome] >= 5, (outcome, work.outcomes)
    assert work.stats.retries == {}, "the documented lock order must not deadlock"

    with psycopg.connect(sales_db) as conn:
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []
        assert (
            run_sql_file(conn, "analyst/top_members.sql").rows
            == run_sql_file(conn, "salesdb/reference_top_members.sql").rows
        )
        assert (
            run_sql_file(conn, "analyst/top_items.sql").rows
            == run_sql_file(conn, "salesdb/reference_top_items.sql").rows
        )
        now_lines: dict[int, set[tuple[int, int]]] = {tx: set() for tx in work.frozen}
        for tx, item_id, quantity in conn.execute(
            "select transaction_id, item_id, quantity from sales.transaction_items"
            " where transaction_id = any(%s)",
            (list(work.frozen),),
        ):
            now_lines[int(tx)].add((int(item_id), int(quantity)))
        changed_after_status = [tx for tx, lines in work.frozen.items() if now_lines[tx] != lines]
        assert changed_after_status == []
        conn.execute("select sales.roll_up_summaries()")
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []
        left = conn.execute("select count(*) from sales.summary_deltas").fetchone()
    assert left == (0,)


@pytest.mark.parametrize("status", ["cancelled", "completed"])
def test_line_waits_for_status_change_and_is_refused(sales_db: str, status: str) -> None:
    """The exact interleaving of the issue: a line inserted while another session changes the
    purchase's status waits for it, then is refused (it used to succeed)."""
    seed(sales_db, SeedPlan(members=5, items=5, transactions=0, seed=1))
    with psycopg.connect(sales_db) as a, psycopg.connect(sales_db) as b:
        member = a.execute("select min(membership_id) from sales.members").fetchone()
        item = a.execute("select item_id, cost, weight_kg from sales.items limit 1").fetchone()
        assert member is not None and item is not None
        tx = purchases.add_purchase(a, member[0], [(item[0], 1, item[1], item[2])])
        a.commit()
        assert purchases.set_status(a, tx, status)  # a holds the lock, not yet committed
        other = b.execute(
            "select item_id, cost, weight_kg from sales.items where item_id <> %s limit 1",
            (item[0],),
        ).fetchone()
        assert other is not None
        result: list[str] = []

        def insert_line() -> None:
            try:
                b.execute(
                    "insert into sales.transaction_items values (%s, %s, 2, %s, %s)",
                    (tx, *other),
                )
                b.commit()
                result.append("inserted")
            except psycopg.errors.CheckViolation as error:
                b.rollback()
                result.append(error.diag.message_primary or "")

        thread = threading.Thread(target=insert_line)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive()  # waiting for a's lock on the purchase
        a.commit()
        thread.join(timeout=10)
    assert result == [
        f"line item (transaction_id={tx}, item_id={other[0]}): transaction {tx} is {status}, "
        "its line items can no longer change"
    ]
    with psycopg.connect(sales_db) as conn:
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []


def test_status_change_waits_for_line_and_counts_it(sales_db: str) -> None:
    """The other order: a cancellation that starts while a line is being added waits for it
    and then takes that line out of item_sales too."""
    seed(sales_db, SeedPlan(members=5, items=5, transactions=0, seed=1))
    with psycopg.connect(sales_db) as a, psycopg.connect(sales_db) as b:
        member = a.execute("select min(membership_id) from sales.members").fetchone()
        items = a.execute("select item_id, cost, weight_kg from sales.items limit 2").fetchall()
        assert member is not None
        tx = purchases.add_purchase(a, member[0], [(items[0][0], 1, items[0][1], items[0][2])])
        a.commit()
        a.execute("insert into sales.transaction_items values (%s, %s, 3, %s, %s)", (tx, *items[1]))
        thread = threading.Thread(
            target=lambda: (purchases.set_status(b, tx, "cancelled"), b.commit())
        )
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive()
        a.commit()
        thread.join(timeout=10)
    with psycopg.connect(sales_db) as conn:
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []
        row = conn.execute(
            "select status, total_quantity from sales.transactions where transaction_id = %s",
            (tx,),
        ).fetchone()
    assert row == ("cancelled", 4)
