"""The incremental marts stay exact across changes: new purchases, shipments, cancellations
and a line added to a pending purchase, then ``dbt build`` again (incremental, every dbt test
included). Every question still equals its base-table reference, the second run rewrote only
the purchases that could have changed, and a full refresh gives the same marts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from shopdata.analytics.catalogue import question_files, run_question
from shopdata.analytics.dbt import run_dbt

from .helpers import REFERENCE_DIR, fetch, fill

QUESTIONS = question_files()
MARTS = (
    "fct_purchases",
    "fct_line_items",
    "agg_daily_sales",
    "agg_daily_shipments",
    "agg_daily_basket_sizes",
    "agg_monthly_item_sales",
    "dim_members",
    "dim_items",
)


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every mart's rows, without the refresh bookkeeping (refreshed_at), sorted."""
    out = {}
    with psycopg.connect(url) as conn:
        for mart in MARTS:
            cur = conn.execute(sql.SQL("select * from marts.{}").format(sql.Identifier(mart)))
            columns = [c.name for c in cur.description or []]
            keep = [i for i, c in enumerate(columns) if c != "refreshed_at"]
            rows = (tuple(r[i] for i in keep) for r in cur.fetchall())
            out[mart] = sorted(rows, key=repr)
    return out


@pytest.fixture(scope="module")
def changed_db(pg_server: Any, sales_template: str) -> Iterator[tuple[str, int]]:
    """Fixture built once, then changed, then built again; (URL, rows the 2nd run rewrote)."""
    name = pg_server.unique_name("analytics_incr")
    url = pg_server.create_database(name, template=sales_template)
    try:
        fill(url)
        run_dbt(url, ["build"])
        fill(url, "changes.sql")
        run_dbt(url, ["build"])
        rewritten = fetch(
            url,
            "select count(*) from marts.fct_purchases "
            "where refreshed_at = (select max(refreshed_at) from marts.fct_purchases)",
        )[0][0]
        yield url, int(rewritten)
    finally:
        pg_server.drop_database(name)


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_question_equals_reference_after_incremental_run(
    changed_db: tuple[str, int], name: str
) -> None:
    url, _ = changed_db
    reference = fetch(url, (REFERENCE_DIR / QUESTIONS[name].name).read_bytes())
    assert run_question(url, name).rows == reference


def test_the_second_run_rewrote_only_what_could_change(changed_db: tuple[str, int]) -> None:
    # New 20, shipped 9, cancelled 12, changed 10, filled 14: the five, and nothing else
    # (15 purchases).
    _, rewritten = changed_db
    assert rewritten == 5


def test_incremental_marts_equal_a_full_refresh(changed_db: tuple[str, int]) -> None:
    url, _ = changed_db
    incremental = _snapshot(url)
    run_dbt(url, ["run", "--full-refresh"])
    assert _snapshot(url) == incremental
