"""Helpers of the analytics tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

HERE = Path(__file__).resolve().parent
REFERENCE_DIR = HERE / "reference"


def fetch(url: str, query: bytes | str) -> list[tuple[Any, ...]]:
    """All rows of one query."""
    with psycopg.connect(url) as conn:
        return list(conn.execute(query.encode() if isinstance(query, str) else query).fetchall())


def fill(url: str, fixture: str = "fixture_analytics.sql") -> None:
    """Run a SQL file of this folder (one database transaction)."""
    with psycopg.connect(url) as conn:
        conn.execute((HERE / fixture).read_bytes())
