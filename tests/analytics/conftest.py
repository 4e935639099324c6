"""Fixtures of the analytics tests: a sales database with the hand-built fixture, built by dbt.

``built_db`` (module): a fresh database built from the init files, filled with
``fixture_analytics.sql`` in one transaction, then ``dbt build`` (models and every dbt test)
run through :func:`shopdata.analytics.dbt.run_dbt`, exactly as ``shopdata db analytics build``
runs it, as the refresh role.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shopdata.analytics import dbt as dbt_module
from shopdata.analytics.dbt import run_dbt

from .helpers import fill


@pytest.fixture(scope="session", autouse=True)
def dbt_work_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """dbt's target/ and logs/ of this session only: parallel sessions (and a bench) must not
    share partial-parse state or run results."""
    saved = dbt_module.WORK_DIR
    dbt_module.WORK_DIR = tmp_path_factory.mktemp("dbt")
    yield
    dbt_module.WORK_DIR = saved


@pytest.fixture(scope="module")
def built_db(pg_server: Any) -> Iterator[str]:
    """URL of a database holding the fixture and the marts built from it by ``dbt build``."""
    name = pg_server.unique_name("analytics_test")
    # Built from the init files, not copied from the template: database-level privileges
    # (CONNECT, TEMPORARY) are not copied by CREATE DATABASE ... TEMPLATE, and the access tests
    # audit this database.
    url = pg_server.create_database_from_init(name)
    try:
        fill(url)
        run_dbt(url, ["build"])
        yield url
    finally:
        pg_server.drop_database(name)
