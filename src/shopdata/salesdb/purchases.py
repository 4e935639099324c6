"""The shop's online operations on purchases, in the documented lock order, with retries.

Lock order (docs/salesdb.md, "Concurrency"): an operation on a purchase first locks the
purchase's row in ``sales.transactions`` and only then touches its line items. The line-item
trigger locks the purchase itself before the foreign-key check, so a plain ``INSERT`` of a line
already follows the order; updating or deleting lines locks the line rows first, so those go
through :func:`change_quantity` / :func:`delete_purchase` here, which take the purchase lock
before. Following the order, these operations do not deadlock each other; :func:`run` still
retries a deadlock (``40P01``) or serialisation failure (``40001``) a few times, because other
clients (psql sessions, scripts) may not follow it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import psycopg

T = TypeVar("T")

#: SQLSTATEs after which the whole database transaction may simply be run again.
RETRYABLE = frozenset({"40P01", "40001"})

LOCK_FOR_LINES = (
    b"select status from sales.transactions where transaction_id = %s for no key update"
)
LOCK_FOR_DELETE = b"select status from sales.transactions where transaction_id = %s for update"


@dataclass
class RetryStats:
    """How often :func:`run` had to start a database transaction again, by SQLSTATE."""

    retries: dict[str, int] = field(default_factory=dict)


def run(
    conn: psycopg.Connection[Any],
    work: Callable[[psycopg.Connection[Any]], T],
    *,
    attempts: int = 5,
    stats: RetryStats | None = None,
) -> T:
    """Run ``work`` in one database transaction and commit it; retry it on a deadlock or
    serialisation failure (with a short random back-off), at most ``attempts`` times in all.

    ``conn`` must be outside any transaction (autocommit, or after a commit or rollback): inside
    one, ``conn.transaction()`` would be a SAVEPOINT, so a retry would keep the locks the
    deadlock was about (and the snapshot a serialisation failure was about), and nothing would
    be committed when this returns.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise ValueError(
            "purchases.run() needs a connection outside any transaction (it commits its work"
            " and retries it from the start): commit or roll back first"
        )
    for attempt in range(1, attempts + 1):
        try:
            with conn.transaction():
                return work(conn)
        except psycopg.Error as error:
            code = error.sqlstate or ""
            if code not in RETRYABLE or attempt == attempts:
                raise
            if stats is not None:
                stats.retries[code] = stats.retries.get(code, 0) + 1
            time.sleep(random.uniform(0.001, 0.01) * attempt)  # jitter, not a secret
    raise AssertionError("unreachable")  # pragma: no cover


Line = tuple[int, int, Decimal, Decimal]  # item_id, quantity, unit_price, unit_weight_kg


def add_purchase(conn: psycopg.Connection[Any], membership_id: str, lines: Sequence[Line]) -> int:
    """Insert a pending purchase with its line items; returns its transaction_id."""
    row = conn.execute(
        b"insert into sales.transactions (membership_id) values (%s) returning transaction_id",
        (membership_id,),
    ).fetchone()
    assert row is not None
    transaction_id = int(row[0])
    with conn.cursor() as cur:
        cur.executemany(
            b"insert into sales.transaction_items"
            b" (transaction_id, item_id, quantity, unit_price, unit_weight_kg)"
            b" values (%s, %s, %s, %s, %s)",
            [(transaction_id, *line) for line in lines],
        )
    return transaction_id


def _locked_status(conn: psycopg.Connection[Any], transaction_id: int, query: bytes) -> str | None:
    row = conn.execute(query, (transaction_id,)).fetchone()
    return None if row is None else str(row[0])


def change_quantity(
    conn: psycopg.Connection[Any], transaction_id: int, item_id: int, quantity: int
) -> bool:
    """Set a line's quantity while its purchase is pending; False if it is not (or is gone)."""
    if _locked_status(conn, transaction_id, LOCK_FOR_LINES) != "pending":
        return False
    cur = conn.execute(
        b"update sales.transaction_items set quantity = %s"
        b" where transaction_id = %s and item_id = %s",
        (quantity, transaction_id, item_id),
    )
    return cur.rowcount == 1


def set_status(conn: psycopg.Connection[Any], transaction_id: int, status: str) -> bool:
    """Complete or cancel a pending purchase; False if it is not pending (or is gone)."""
    column = {"completed": b"completed_at", "cancelled": b"cancelled_at"}[status]
    if _locked_status(conn, transaction_id, LOCK_FOR_LINES) != "pending":
        return False
    cur = conn.execute(
        b"update sales.transactions set status = %s, "
        + column
        + b" = now() where transaction_id = %s and (%s = 'cancelled' or total_quantity > 0)",
        (status, transaction_id, status),
    )
    return cur.rowcount == 1


def delete_purchase(conn: psycopg.Connection[Any], transaction_id: int) -> bool:
    """Delete a pending purchase and its lines; False if it is not pending (or is gone)."""
    if _locked_status(conn, transaction_id, LOCK_FOR_DELETE) != "pending":
        return False
    conn.execute(
        b"delete from sales.transaction_items where transaction_id = %s", (transaction_id,)
    )
    conn.execute(b"delete from sales.transactions where transaction_id = %s", (transaction_id,))
    return True
