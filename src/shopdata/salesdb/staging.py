"""COPY rows into a constraint-checked staging table, and name the row behind any error.

Loaders never trust themselves to validate: rows are streamed with COPY into a temporary table
created ``LIKE`` the target *including its CHECK and NOT NULL constraints*, so PostgreSQL judges
every value with the target's own constraint names, and the COPY's context tells which line
failed. Foreign keys and uniqueness are checked when the staged rows move into the target;
their error detail names the key, which is looked up in the staging table to find the line.
Everything runs in the caller's transaction: one error and nothing is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

SCHEMA = "sales"
_COPY_LINE = re.compile(r"COPY \S+, line (\d+)(?:, column (\w+))?")
_KEY_DETAIL = re.compile(r"Key \(([\w, ]+)\)=\((.*)\) (?:is not present|already exists)")
_TRIGGER_KEY = re.compile(r"^line item \((\w+=[^,()]+(?:, \w+=[^,()]+)*)\): ")


class LoadError(Exception):
    """Bad input, worded as ``<source> line <n>: <what>; nothing was loaded``."""


@dataclass(frozen=True)
class StagedSource:
    """Where staged rows came from: a display name and the file line of the first data row."""

    name: str
    first_line: int = 2  # line 1 is the CSV header
    #: The file line of each row, when rows may span lines (a quoted field holding a line
    #: break); the reader appends each row's line before yielding the row.
    lines: list[int] | None = None

    def line_of(self, offset: int) -> int:
        """The file line of the row at ``offset`` (0-based) in the COPY."""
        if self.lines is not None and offset < len(self.lines):
            return self.lines[offset]
        return self.first_line + offset


def create_staging(conn: psycopg.Connection[Any], table: str, staging: str) -> None:
    """A temp table like ``sales.<table>`` with its checks and defaults, plus line bookkeeping.

    Identity columns stay identities (e.g. ``members.member_key``), so files need not carry
    them; the target hands out its own values when the rows move.
    """
    conn.execute(
        sql.SQL(
            "create temporary table {} (like {} including defaults including constraints"
            " including identity, _source text not null, _line integer not null)"
            " on commit drop"
        ).format(sql.Identifier(staging), sql.Identifier(SCHEMA, table))
    )


def _describe(error: psycopg.Error) -> str:
    diag = error.diag
    primary = (diag.message_primary or str(error)).strip()
    if diag.constraint_name and diag.sqlstate == "23514":  # check_violation
        return f'violates check constraint "{diag.constraint_name}"'
    if diag.sqlstate == "23502":  # not_null_violation
        return f"{diag.column_name} is empty (violates its not-null constraint)"
    return primary


def copy_rows(
    conn: psycopg.Connection[Any],
    staging: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[str | None]],
    source: StagedSource,
) -> int:
    """COPY ``rows`` into the staging table; on a bad row raise LoadError naming its line."""
    statement = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(staging),
        sql.SQL(", ").join(sql.Identifier(c) for c in [*columns, "_source", "_line"]),
    )
    count = 0
    try:
        with conn.cursor() as cur, cur.copy(statement) as copy:
            for offset, row in enumerate(rows):
                copy.write_row([*row, source.name, source.line_of(offset)])
                count += 1
    except psycopg.Error as error:
        match = _COPY_LINE.search(error.diag.context or "")
        if match is None:
            raise LoadError(f"{source.name}: {_describe(error)}; nothing was loaded") from error
        line = source.line_of(int(match.group(1)) - 1)
        column = match.group(2)
        what = _describe(error)
        if column and error.diag.sqlstate and error.diag.sqlstate.startswith("22"):
            what = f"{column}: {what}"
        raise LoadError(f"{source.name} line {line}: {what}; nothing was loaded") from error
    return count


def first_future_row(
    conn: psycopg.Connection[Any], staging: str, column: str
) -> tuple[int, str] | None:
    """(line, value) of the first staged row whose ``column`` lies after now() or is not a
    finite time (``infinity``, ``-infinity``), or None."""
    row = conn.execute(
        sql.SQL(
            "select _line, {col}::text from {tbl} where {col} > now() or not isfinite({col})"
            " order by _line limit 1"
        ).format(col=sql.Identifier(column), tbl=sql.Identifier(staging))
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def _key_of(error: psycopg.Error) -> dict[str, str]:
    """The row key an error names: FK/unique detail ``Key (col)=(v)``, or a trigger's message
    ``line item (transaction_id=1, item_id=2)``."""
    match = _KEY_DETAIL.search(error.diag.message_detail or "")
    if match is not None:
        names = match.group(1).split(", ")
        values = match.group(2).split(", ", len(names) - 1)
        if len(values) == len(names):  # a composite key (transaction_id, item_id) too
            return dict(zip(names, values, strict=True))
        return {}
    found = _TRIGGER_KEY.search(error.diag.message_primary or "")
    if found is None:
        return {}
    return dict(pair.split("=", 1) for pair in found.group(1).split(", "))


def locate_key(
    conn: psycopg.Connection[Any], staging: str, error: psycopg.Error
) -> tuple[str, int] | None:
    """The (source, line) of the staged row an error names, if it names one.

    For a unique violation between two staged rows, the second (the one that collides) is
    reported; otherwise the first row with that key.
    """
    key = _key_of(error)
    if not key:
        return None
    condition = sql.SQL(" and ").join(
        sql.SQL("{}::text = {}").format(sql.Identifier(column), sql.Literal(value))
        for column, value in key.items()
    )
    rows = conn.execute(
        sql.SQL("select _source, _line from {} where {} order by _line limit 2").format(
            sql.Identifier(staging), condition
        )
    ).fetchall()
    if not rows:
        return None
    chosen = rows[-1] if error.diag.sqlstate == "23505" else rows[0]
    return (str(chosen[0]), int(chosen[1]))


def key_error_message(error: psycopg.Error, where: tuple[str, int] | None, table: str) -> str:
    """One line for a foreign-key / unique / trigger error raised while moving staged rows."""
    diag = error.diag
    detail = (diag.message_detail or "").strip()
    if diag.sqlstate == "23503" and diag.constraint_name:  # foreign_key_violation
        what = f'violates foreign key constraint "{diag.constraint_name}": {detail}'
    elif diag.sqlstate == "23505" and diag.constraint_name:  # unique_violation
        what = f'violates unique constraint "{diag.constraint_name}": {detail}'
    else:
        what = (diag.message_primary or str(error)).strip()
        if diag.constraint_name:
            what = f'{what} (constraint "{diag.constraint_name}")'
    place = f"{where[0]} line {where[1]}" if where else f"{table}"
    return f"{place}: {what}; nothing was loaded"


def move_staged(
    conn: psycopg.Connection[Any],
    staging: str,
    table: str,
    columns: Sequence[str],
    *,
    on_conflict_do_nothing: str | None = None,
) -> int:
    """INSERT the staged rows into ``sales.<table>`` in file order; returns rows inserted.

    With ``on_conflict_do_nothing=KEY`` rows whose KEY already exists are skipped (and staged
    duplicates of one key are reduced to their first line).
    """
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    if on_conflict_do_nothing is None:
        statement = sql.SQL("insert into {} ({}) select {} from {} order by _line").format(
            sql.Identifier(SCHEMA, table), cols, cols, sql.Identifier(staging)
        )
    else:
        # Inserted in file order, not key order: identity columns (members.member_key, the
        # teams' stand-in for the birthday-derived membership_id) are numbered in insert order,
        # and numbering by membership_id leaked the order of the birthday hashes (issue 12).
        key = sql.Identifier(on_conflict_do_nothing)
        statement = sql.SQL(
            "insert into {} ({}) select {} from"
            " (select distinct on ({}) {}, _source, _line from {} order by {}, _source, _line)"
            " as first_lines order by _source, _line on conflict ({}) do nothing"
        ).format(
            sql.Identifier(SCHEMA, table),
            cols,
            cols,
            key,
            cols,
            sql.Identifier(staging),
            key,
            key,
        )
    try:
        with conn.transaction():
            cur = conn.execute(statement)
    except psycopg.Error as error:
        where = locate_key(conn, staging, error)
        raise LoadError(key_error_message(error, where, table)) from error
    return cur.rowcount
