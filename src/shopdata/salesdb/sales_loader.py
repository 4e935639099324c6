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

Checked here, before PostgreSQL would quietly accept them (issue 12): each file's key and
foreign-key columns must be in its header; text must be UTF-8; numbers must be finite (no NaN
or infinity) and have no more decimals than the column keeps (``1.005`` is not silently
rounded to ``1.01``); a transaction's times must not lie in the future. Every refusal is one
line naming the file, the line and the column.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import psycopg

from shopdata.salesdb.queries import read_sql
from shopdata.salesdb.staging import (
    LoadError,
    StagedSource,
    copy_rows,
    create_staging,
    first_future_row,
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


#: Columns each file must name: its key and the foreign keys that tie it to the others.
REQUIRED: dict[str, tuple[str, ...]] = {
    "manufacturers.csv": ("manufacturer_id", "name"),
    "items.csv": ("item_id", "manufacturer_id", "name", "cost", "weight_kg"),
    "transactions.csv": ("transaction_id", "membership_id"),
    "transaction_items.csv": (
        "transaction_id",
        "item_id",
        "quantity",
        "unit_price",
        "unit_weight_kg",
    ),
}
#: Times that cannot lie in the future: a purchase has happened when it is loaded.
NOT_FUTURE: dict[str, tuple[str, ...]] = {
    "transactions.csv": ("created_at", "completed_at", "cancelled_at"),
}


@dataclass
class SalesReport:
    """Rows inserted per table, in load order."""

    rows: dict[str, int] = field(default_factory=dict)


def _utf8_lines(path: Path, header: list[str]) -> Generator[str, None, None]:
    """The file's lines as text; a line that is not UTF-8 is refused with its line and column.

    Decoded line by line (a line break byte never occurs inside a UTF-8 sequence), so the
    error can say where, instead of a traceback from deep inside the CSV reader.
    """
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as error:
                field_index = raw[: error.start].count(b",")
                column = header[field_index] if line_no > 1 and field_index < len(header) else ""
                where = f"{column}: " if column else ""
                byte = raw[error.start]
                raise LoadError(
                    f"{path.name} line {line_no}: {where}not UTF-8 text (byte 0x{byte:02x}; "
                    "save the file as UTF-8); nothing was loaded"
                ) from None


def number_problem(value: str, scale: int) -> str | None:
    """Why ``value`` is not a number the column keeps exactly, or None (pure).

    Text that is not a number at all is left to PostgreSQL, whose message is already clear.
    """
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if number.is_nan() or number.is_infinite():
        return f"{value!r} is not a finite number (NaN and infinity are refused)"
    # Digits past the column's scale must all be zero. Counted on the digits, not with
    # quantize(), which raises InvalidOperation (a traceback) once the result needs more than
    # the context's 28 digits, e.g. for 1e30; the range itself is PostgreSQL's to judge.
    _, digits, exponent = number.as_tuple()
    beyond = -scale - int(exponent)
    if beyond > 0 and any(digits[-beyond:]):
        return (
            f"{value!r} has more than {scale} decimal places "
            "(it would be rounded; round it in the file if that is meant)"
        )
    return None


def _read(
    path: Path, allowed: tuple[str, ...], scales: dict[str, int], row_lines: list[int]
) -> tuple[list[str], Iterator[list[str | None]]]:
    """The header and the rows of ``path``; each row's first file line goes to ``row_lines``
    (a quoted field may hold a line break, so rows and lines can differ)."""
    header_row: list[str] = []
    lines = _utf8_lines(path, header_row)
    reader = csv.reader(lines)
    header = next(reader, None) or []
    header_row.extend(header)
    unknown = [c for c in header if c not in allowed]
    if unknown or not header or len(set(header)) != len(header):
        lines.close()
        raise LoadError(
            f"{path.name}: header {','.join(header)!r} must name distinct columns among "
            f"{','.join(allowed)}; nothing was loaded"
        )
    missing = [c for c in REQUIRED[path.name] if c not in header]
    if missing:
        lines.close()
        raise LoadError(
            f"{path.name} line 1: header lacks the required column(s) {', '.join(missing)}; "
            "nothing was loaded"
        )
    numeric = [(i, c, scales[c]) for i, c in enumerate(header) if c in scales]

    def rows() -> Iterator[list[str | None]]:
        with contextlib.closing(lines):
            line_no = reader.line_num + 1
            for row in reader:
                if len(row) != len(header):
                    raise LoadError(
                        f"{path.name} line {line_no}: expected {len(header)} fields, found "
                        f"{len(row)}; nothing was loaded"
                    )
                for column, value in zip(header, row, strict=True):
                    if "\0" in value:
                        raise LoadError(
                            f"{path.name} line {line_no}: {column}: holds a NUL byte (0x00), "
                            "which PostgreSQL text cannot store; nothing was loaded"
                        )
                for index, column, scale in numeric:
                    problem = number_problem(row[index], scale) if row[index] else None
                    if problem is not None:
                        raise LoadError(
                            f"{path.name} line {line_no}: {column}: {problem}; nothing was loaded"
                        )
                row_lines.append(line_no)
                yield [value if value != "" else None for value in row]
                line_no = reader.line_num + 1

    return header, rows()


def load_sales(url: str, folder: Path) -> SalesReport:
    """Load every known CSV in ``folder`` in foreign-key order, in one transaction."""
    present = [name for name in FILES if (folder / name).is_file()]
    if not present:
        raise LoadError(f"none of {', '.join(FILES)} found in {folder}; nothing was loaded")
    report = SalesReport()
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute(read_sql("salesdb/constraints_immediate.sql"))
        scales = {
            (str(table), str(column)): int(str(scale))
            for table, column, scale in conn.execute(
                read_sql("salesdb/numeric_scales.sql")
            ).fetchall()
        }
        for name in present:
            table, allowed = FILES[name]
            table_scales = {c: n for (t, c), n in scales.items() if t == table}
            row_lines: list[int] = []
            columns, rows = _read(folder / name, allowed, table_scales, row_lines)
            staging = f"{table}_in"
            create_staging(conn, table, staging)
            copy_rows(conn, staging, columns, rows, StagedSource(name, lines=row_lines))
            for column in NOT_FUTURE.get(name, ()):
                if column in columns:
                    found = first_future_row(conn, staging, column)
                    if found is not None:
                        line, value = found
                        what = (
                            "is not a finite time" if value == "-infinity" else "is in the future"
                        )
                        raise LoadError(
                            f"{name} line {line}: {column}: {value} {what}; nothing was loaded"
                        )
            report.rows[table] = move_staged(conn, staging, table, columns)
        conn.execute(read_sql("salesdb/sync_identities.sql"))
    return report
