"""Helpers shared by the salesdb tests (not fixtures: plain functions)."""

from __future__ import annotations

from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent


def apply_sql_file(url: str, name: str) -> None:
    """Run a multi-statement SQL file from tests/salesdb/ in one transaction."""
    with psycopg.connect(url) as conn:
        conn.execute((HERE / name).read_bytes())


def scalar(url: str, query: str) -> object:
    """The single value a query returns."""
    with psycopg.connect(url) as conn:
        row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return row[0]
