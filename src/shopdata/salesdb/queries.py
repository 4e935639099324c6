"""Run the SQL files under ``sql/`` beside this module (analyst, reference and maintenance queries).

The SQL stays in ``.sql`` files that analysts can also run with ``psql -f``; this module only
reads and executes them. The analyst, reference and maintenance files take no parameters, so
their text is sent as it is; ``sql/purchases/`` (the shop's online operations,
:mod:`shopdata.salesdb.purchases`) uses PostgreSQL's own ``$1`` placeholders, bound by a RawCursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from shopdata import resources

#: ``src/shopdata/salesdb/sql``: ``analyst/``, ``salesdb/`` (maintenance) and ``initdb/``.
SQL_DIR = resources.package_path("shopdata.salesdb", "sql")

#: ``shopdata db query NAME`` -> file under sql/analyst/.
ANALYST_QUERIES: dict[str, str] = {
    "top-members": "top_members.sql",
    "top-items": "top_items.sql",
}


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows, in the order the query returns them."""

    columns: list[str]
    rows: list[tuple[Any, ...]]


def sql_path(relative: str) -> Path:
    """A file under ``sql/`` (for example ``analyst/top_members.sql``)."""
    return SQL_DIR / relative


def read_sql(relative: str) -> bytes:
    """The text of a SQL file, as bytes for psycopg (the files are trusted, parameter-free)."""
    return resources.read_sql("shopdata.salesdb", relative).encode()


def run_sql_file(conn: psycopg.Connection[Any], relative: str) -> QueryResult:
    """Execute one SQL file and fetch all its rows."""
    cur = conn.execute(read_sql(relative))
    columns = [c.name for c in cur.description or []]
    return QueryResult(columns=columns, rows=list(cur.fetchall()))


def run_analyst_query(url: str, name: str) -> QueryResult:
    """Run ``shopdata db query NAME``'s SQL file against the database in ``url``."""
    with psycopg.connect(url) as conn:
        return run_sql_file(conn, f"analyst/{ANALYST_QUERIES[name]}")
