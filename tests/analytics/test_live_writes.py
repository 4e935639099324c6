"""A refresh runs against a live shop: its dbt tests must not fail because the shop wrote.

``dbt build`` reads the source in ``fct_purchases`` and again, seconds or minutes later, in the
invariant tests. With the shop's checkout writing a purchase every 50 ms, ``shopdata db
refresh-analytics`` failed every time ("Failure in test purchases_equal_source", 38 of 63 nodes
skipped: the marts below fct_purchases were never refreshed while the shop was busy; acceptance
test of issue 21). Here the shop writes, through its own functions, exactly between the models and
the tests: the tests pass, the next build brings the marts level with the source, and a settled
purchase that the marts got wrong is still reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from shopdata.analytics.catalogue import question_files, run_question
from shopdata.analytics.dbt import DbtError, run_dbt
from shopdata.salesdb import purchases

from .helpers import REFERENCE_DIR, fetch, fill

QUESTIONS = question_files()


def _shop_writes(url: str) -> None:
    """What a busy shop does between two reads: a new purchase, a new one shipped at once, the
    pending 9 shipped, the pending 12 cancelled, a line's quantity changed in the pending 10,
    the empty pending basket 14 deleted."""
    with psycopg.connect(url) as conn:
        line = (2, 1, Decimal("35.00"), Decimal("2.000"))
        purchases.run(conn, lambda c: purchases.add_purchase(c, "Eng_00005", [line]))
        shipped = purchases.run(conn, lambda c: purchases.add_purchase(c, "Foo_00006", [line]))
        assert purchases.run(conn, lambda c: purchases.set_status(c, shipped, "completed"))
        assert purchases.run(conn, lambda c: purchases.set_status(c, 9, "completed"))
        assert purchases.run(conn, lambda c: purchases.set_status(c, 12, "cancelled"))
        assert purchases.run(conn, lambda c: purchases.change_quantity(c, 10, 3, 5))
        assert purchases.run(conn, lambda c: purchases.delete_purchase(c, 14))


@pytest.fixture(scope="module")
def live_db(pg_server: Any, sales_template: str) -> Iterator[str]:
    name = pg_server.unique_name("analytics_live")
    url = pg_server.create_database(name, template=sales_template)
    try:
        fill(url)
        with psycopg.connect(url) as conn:  # the fixture gives its ids; the shop's next is 15
            conn.execute(
                b"select setval(pg_get_serial_sequence('sales.transactions', 'transaction_id'),"
                b" (select max(transaction_id) from sales.transactions))"
            )
        run_dbt(url, ["run"])
        yield url
    finally:
        pg_server.drop_database(name)


def test_the_tests_pass_when_the_shop_wrote_after_the_models(live_db: str) -> None:
    _shop_writes(live_db)
    run_dbt(live_db, ["test"])


def test_the_next_build_brings_the_marts_level_with_the_source(live_db: str) -> None:
    run_dbt(live_db, ["build"])
    for name in sorted(QUESTIONS):
        reference = fetch(live_db, (REFERENCE_DIR / QUESTIONS[name].name).read_bytes())
        assert run_question(live_db, name).rows == reference, name


def test_a_settled_purchase_the_marts_got_wrong_is_still_reported(live_db: str) -> None:
    # Purchase 1 was completed long ago: nothing the shop does can change it.
    with psycopg.connect(live_db) as conn:
        conn.execute(
            b"update marts.fct_purchases set revenue = revenue + 1 where transaction_id = 1"
        )
    with pytest.raises(DbtError, match="Failure in test purchases_equal_source"):
        run_dbt(live_db, ["test", "--select", "purchases_equal_source"])
