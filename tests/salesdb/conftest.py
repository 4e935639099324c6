"""Fixtures of the salesdb tests: the CLI pointed at a fresh test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shopdata.config import get_settings


@pytest.fixture
def db_env(sales_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Make `shopdata db ...` use the fresh test database (through DATABASE_URL)."""
    monkeypatch.setenv("DATABASE_URL", sales_db)
    get_settings.cache_clear()
    yield sales_db
    get_settings.cache_clear()
