"""Helpers of the analytics tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from shopdata.access.users import NewUser

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


def connect_as(url: str, user: NewUser) -> psycopg.Connection[tuple[Any, ...]]:
    """A real login of ``user`` (made by ``shopdata db add-user``) to the database of ``url``."""
    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname,
        port=parts.port,
        dbname=parts.path.lstrip("/"),
        user=user.name,
        password=user.password,
        autocommit=True,
    )
