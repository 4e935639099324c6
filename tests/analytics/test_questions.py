"""Every catalogue question equals its plain base-table reference query, row for row.

The questions read the dbt marts; the references (``reference/NAME.sql``) read ``sales.*``
directly with the rules written out again. Both run on the hand-built fixture after ``dbt
build``; exact rows, exact order. A few answers are also spelled out by hand, so that a rule
changed in both places at once still fails.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from shopdata.analytics.catalogue import question_files, run_question, title

from .helpers import REFERENCE_DIR, fetch

QUESTIONS = question_files()


def test_the_catalogue_holds_the_issues_questions() -> None:
    assert len(QUESTIONS) >= 12
    assert {
        "top-members",
        "top-items",
        "revenue-by-month",
        "revenue-by-manufacturer",
        "revenue-by-item",
        "top-items-last-month",
        "basket-by-month",
        "basket-size-distribution",
        "repeat-purchase-rate",
        "churned-members",
        "new-members-by-month",
        "logistics-backlog",
        "weight-shipped-by-day",
        "items-never-sold",
        "discontinued-items-last-sale",
    } <= set(QUESTIONS)


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_each_question_has_a_definition_and_a_reference(name: str) -> None:
    text = QUESTIONS[name].read_text(encoding="utf-8")
    assert text.startswith("-- "), "the question's definition comes first, as a comment"
    assert len([line for line in text.splitlines() if line.startswith("--")]) >= 3
    schemas = set(re.findall(r"\b(?:from|join)\s+([a-z_]+)\.", text))
    assert schemas == {"marts"}, "questions read the marts only"
    assert (REFERENCE_DIR / QUESTIONS[name].name).is_file()
    assert title(QUESTIONS[name]).endswith((".", ")"))


@pytest.mark.parametrize("name", sorted(QUESTIONS))
def test_question_equals_its_base_table_reference(built_db: str, name: str) -> None:
    answer = run_question(built_db, name)
    reference = fetch(built_db, (REFERENCE_DIR / QUESTIONS[name].name).read_bytes())
    assert answer.rows == reference
    assert answer.rows, f"{name}: the fixture must give this question something to answer"


def test_top_items_by_hand(built_db: str) -> None:
    # Kettle and mug tie at 5 purchases (the cancelled toaster purchase does not count).
    rows = run_question(built_db, "top-items").rows
    assert rows == [
        (1, 1, "Kettle", "Acme", 5, 9),
        (1, 3, "Mug", "Globex", 5, 17),
        (3, 4, "Teapot", "Globex", 3, 7),
    ]


def test_revenue_by_manufacturer_by_hand(built_db: str) -> None:
    # Acme: kettle 40 + 20 + 60 + 25 (the new price) + 40, toaster 35 (the cancelled 70 not).
    rows = run_question(built_db, "revenue-by-manufacturer").rows
    assert rows == [
        (1, "Acme", 2, 10, Decimal("220.00")),
        (2, "Globex", 3, 24, Decimal("190.00")),
        (3, "Initech", 3, 3, Decimal("120.00")),
        (4, "Hooli", 1, 0, Decimal("0")),
    ]


def test_never_sold_and_discontinued_by_hand(built_db: str) -> None:
    never = run_question(built_db, "items-never-sold").rows
    assert [(r[0], r[1]) for r in never] == [(5, "Spoon"), (6, "Whisk"), (8, "Lamp"), (9, "Phone")]
    discontinued = run_question(built_db, "discontinued-items-last-sale").rows
    today = dt.datetime.now(dt.UTC).date()
    # Both removed in one statement (same discontinued_at): by item_id.
    assert [(r[0], r[4], r[5], r[6]) for r in discontinued] == [
        (7, today - dt.timedelta(days=95), 3, Decimal("120.00")),
        (8, None, 0, Decimal("0")),
    ]


def test_churned_members_by_hand(built_db: str) -> None:
    # Active: Alice (last 100 days ago) of 5 buyers; suspended Fay and closed Gus both churned.
    rows = run_question(built_db, "churned-members").rows
    assert rows == [
        ("active", 1, 5, Decimal("20.00")),
        ("closed", 1, 1, Decimal("100.00")),
        ("suspended", 1, 1, Decimal("100.00")),
    ]


def test_repeat_rate_by_hand(built_db: str) -> None:
    # Buyers: Alice 2, Bob 2 (his cancelled one not counted), Cara 1, Dev 3, Fay 1, Gus 1, Hana 1.
    assert run_question(built_db, "repeat-purchase-rate").rows == [(7, 3, Decimal("42.86"))]


def test_a_purchase_with_no_line_is_no_purchase(built_db: str) -> None:
    """14: Eve's pending purchase with no line item, a basket never filled. It stays in
    fct_purchases (every transaction does) but counts nowhere: Eve has never bought, there is
    no basket of 0 items, and the backlog has no "2-7 days" bucket (14 is 3 days old)."""
    assert fetch(
        built_db,
        "select status, is_counted, line_count, revenue from marts.fct_purchases "
        "where transaction_id = 14",
    ) == [("pending", False, 0, Decimal("0.00"))]
    assert fetch(
        built_db,
        "select d.purchase_count, d.first_purchase_day, d.last_purchase_day "
        "from marts.dim_members as d inner join sales.members as m using (member_key) "
        "where m.membership_id = 'Eng_00005'",
    ) == [(0, None, None)]
    sizes = run_question(built_db, "basket-size-distribution").rows
    assert [r[0] for r in sizes] == [1, 2, 3]
    backlog = run_question(built_db, "logistics-backlog").rows
    assert [(r[0], r[1]) for r in backlog] == [
        ("over 30 days", 1),
        ("8-30 days", 1),
        ("0-1 days", 1),
    ]


def test_dbt_docs_generate_describes_every_model_and_its_lineage(built_db: str) -> None:
    import json

    from shopdata.analytics import dbt as dbt_module
    from shopdata.analytics.dbt import run_dbt

    run_dbt(built_db, ["docs", "generate"])
    target = dbt_module.default_work_dir() / "target"
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((target / "catalog.json").read_text(encoding="utf-8"))
    models = {n.split(".")[-1] for n in manifest["nodes"] if n.startswith("model.")}
    assert len(models) == 16
    parents = manifest["parent_map"]
    assert parents["model.shopdata_analytics.fct_purchases"] == [
        "model.shopdata_analytics.stg_sales__line_items",
        "model.shopdata_analytics.stg_sales__purchases",
        "model.shopdata_analytics.stg_sales__removed_purchases",
    ]
    assert (
        "source.shopdata_analytics.sales.transactions"
        in (parents["model.shopdata_analytics.stg_sales__purchases"])
    )
    documented = {n.split(".")[-1] for n in catalog["nodes"]}
    assert models <= documented  # the catalog read every built relation's columns
    assert (target / "index.html").is_file()
