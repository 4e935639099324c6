"""``shopdata db load-sales DIR``: catalogue and transactions from CSV files, all or nothing.

``DIR`` may hold, loaded in this order (foreign keys point backwards):

* ``manufacturers.csv``: ``manufacturer_id,name``
* ``items.csv``: ``item_id,manufacturer_id,name,cost,weight_kg`` (+ ``listed_at``,
  ``discontinued_at``)
* ``transactions.csv``: ``transaction_id,membership_id,status,created_at`` (+ ``completed_at``,
  ``cancelled_at``)
* ``transaction_items.csv``: ``transaction_id,item_id,quantity,unit_price,unit_weight_kg``

The header names the columns (any subset of the table's columns, in any order). Each file is
COPYed into a staging table carrying the target's CHECK constraints (negative cost, zero
quantity ... fail with file, line and constraint), then inserted into the target, where foreign
keys, uniqueness and the triggers' rules apply (unknown membership ID ... fail with the line
found from the key). One database transaction for the whole folder: an error loads nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from shopdata.salesdb.queries import read_sql
from shopdata.salesdb.staging import (
    LoadError,
    StagedSource,
    copy_rows,
    create_staging,
    move_staged,
)

#: file name -> (table, columns a file may have)
FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "manufacturers.csv": ("manufacturers", ("manufacturer_id", "name")),
    "items.csv": (
        "items",
        (
            "item_id",
            "manufacturer_id",
            "name",
            "cost",
            "weight_kg",
            "listed_at",
            "discontinued_at",
        ),
    ),
    "transactions.csv": (
        "transactions",
        (
            "transaction_id",
            "membership_id",
            "status",
            "created_at",
            "completed_at",
            "cancelled_at",
        ),
    ),
    "transaction_items.csv": (
        "transaction_items",
        ("transaction_id", "item_id", "quantity", "unit_price", "unit_weight_kg"),
    ),
}


@dataclass
class SalesReport:
    """Rows inserted per table, in load order."""

    rows: dict[str, int] = field(default_factory=dict)


def _read(path: Path, allowed: tuple[str, ...]) -> tuple[list[str], Iterator[list[str | None]]]:
    handle = path.open(newline="", encoding="utf-8")
    reader = csv.reader(handle)
    header = next(reader, None) or []
    unknown = [c for c in header if c not in allowed]
    if unknown or not header or len(set(header)) != len(header):
        handle.close()
        raise LoadError(
            f"{path.name}: header {','.join(header)!r} must name distinct columns among "
            f"{','.join(allowed)}; nothing was loaded"
        )

    def rows() -> Iterator[list[str | None]]:
        with handle:
            for line_no, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    raise LoadError(
                        f"{path.name} line {line_no}: expected {len(header)} fields, found "
                        f"{len(row)}; nothing was loaded"
                    )
                yield [value if value != "" else None for value in row]

    return header, rows()


def load_sales(url: str, folder: Path) -> SalesReport:
    """Load every known CSV in ``folder`` in foreign-key order, in one transaction."""
    present = [name for name in FILES if (folder / name).is_file()]
    if not present:
        raise LoadError(f"none of {', '.join(FILES)} found in {folder}; nothing was loaded")
    report = SalesReport()
    with psycopg.connect(url) as conn, conn.transaction():
        for name in present:
            table, allowed = FILES[name]
            columns, rows = _read(folder / name, allowed)
            staging = f"{table}_in"
            create_staging(conn, table, staging)
            copy_rows(conn, staging, columns, rows, StagedSource(name))
            report.rows[table] = move_staged(conn, staging, table, columns)
        conn.execute(read_sql("salesdb/sync_identities.sql"))
    return report
