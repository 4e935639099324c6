"""The refresh machinery Dagster shares with `db refresh-analytics`: the lock without waiting, the
failed nodes of dbt's run_results.json in one line, the manifest parsed only when stale."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from shopdata.analytics.dbt import (
    PROJECT_DIR,
    RefreshBusy,
    dbt_session,
    failures,
    manifest_path,
    refresh_lock,
)
from shopdata.resources import read_sql


@pytest.fixture(scope="module")
def empty_db(pg_server: Any, sales_template: str) -> Iterator[str]:
    name = pg_server.unique_name("analytics_lock")
    url = pg_server.create_database(name, template=sales_template)
    try:
        yield url
    finally:
        pg_server.drop_database(name)


def test_a_refresh_that_may_not_wait_is_refused_while_another_holds_the_lock(
    empty_db: str,
) -> None:
    with psycopg.connect(empty_db, autocommit=True) as holder:
        holder.execute(read_sql("shopdata.analytics", "lock_refresh.sql").encode())
        with pytest.raises(RefreshBusy) as refused, dbt_session(empty_db, wait=False):
            pytest.fail("entered the block while another refresh held the lock")
        assert str(refused.value) == (
            "another analytics refresh holds the refresh lock of this database"
        )
    # released by the holder's connection closing: taken, then released in its turn
    with (
        refresh_lock(empty_db, wait=False),
        pytest.raises(RefreshBusy),
        refresh_lock(empty_db, wait=False),
    ):
        pass
    with dbt_session(empty_db, wait=False) as env:
        assert env["SHOPDATA_DBT_ROLE"] == "analytics_refresh"
        assert env["DBT_SEND_ANONYMOUS_USAGE_STATS"] == "false"
        assert env["DBT_PROFILES_DIR"] == str(PROJECT_DIR)


def test_failures_names_each_failed_node_in_one_line() -> None:
    run_results = {
        "results": [
            {"unique_id": "model.shopdata_analytics.fct_purchases", "status": "success"},
            {
                "unique_id": "test.shopdata_analytics.purchases_equal_source",
                "status": "fail",
                "message": "Got 1 result, configured to fail if != 0",
            },
            {
                "unique_id": "model.shopdata_analytics.dim_members",
                "status": "error",
                "message": 'Database Error in model dim_members\n  relation "x" does not exist',
            },
            {"unique_id": "model.shopdata_analytics.dim_items", "status": "skipped"},
        ]
    }
    assert failures(run_results) == (
        "test purchases_equal_source fail (Got 1 result, configured to fail if != 0); "
        'model dim_members error (Database Error in model dim_members relation "x" does not '
        "exist)"
    )
    assert failures({"results": []}) == "dbt exited non-zero without a failed node (see its log)"


def test_the_manifest_is_parsed_once_and_again_when_the_project_changes(tmp_path: Path) -> None:
    first = manifest_path(tmp_path)
    assert first == tmp_path / "manifest.json"
    made = first.stat().st_mtime_ns
    assert manifest_path(tmp_path).stat().st_mtime_ns == made  # current: not parsed again
    newest = max(p.stat().st_mtime for p in PROJECT_DIR.rglob("*") if p.is_file())
    os.utime(first, (newest - 10, newest - 10))  # older than a file of the project
    assert manifest_path(tmp_path).stat().st_mtime >= newest
