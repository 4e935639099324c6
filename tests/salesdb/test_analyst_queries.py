"""Both analyst questions on a hand-built fixture with known answers.

The fixture (fixture_sales.sql) has a tie at the 10th member and at the 3rd item, a cancelled
purchase that would top both lists if it counted, a pending purchase that counts, and a kettle
whose price rose after it was sold.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.salesdb.queries import run_analyst_query, run_sql_file

from .helpers import apply_sql_file

TOP_MEMBERS = [
    (1, "Ang_00001", "Alice", "Ang", Decimal("200.00"), 1),
    (2, "Bala_00002", "Bob", "Bala", Decimal("175.00"), 1),
    (3, "Chan_00003", "Cara", "Chan", Decimal("150.00"), 1),  # pending counts
    (4, "Das_00004", "Dev", "Das", Decimal("120.00"), 1),
    (5, "Eng_00005", "Eve", "Eng", Decimal("100.00"), 1),  # 5 kettles at 20.00, not 25.00
    (6, "Foo_00006", "Fay", "Foo", Decimal("90.00"), 1),
    (7, "Ito_00009", "Ivan", "Ito", Decimal("85.00"), 2),  # 3 x 20.00 + 1 x 25.00
    (8, "Goh_00007", "Gus", "Goh", Decimal("80.00"), 1),
    (9, "Ho_00008", "Hana", "Ho", Decimal("70.00"), 1),
    (10, "Jin_0000a", "Jo", "Jin", Decimal("50.00"), 1),  # tie at the cut-off:
    (10, "Koh_0000b", "Kim", "Koh", Decimal("50.00"), 1),  # both are returned
]

TOP_ITEMS = [
    (1, 1, "Kettle", "Acme", 6, 25),
    (2, 3, "Mug", "Globex", 3, 46),
    (3, 2, "Toaster", "Acme", 2, 7),  # the cancelled 100 toasters do not count
    (3, 4, "Teapot", "Globex", 2, 12),  # tied with the 3rd: returned too
]


def test_top_members_exact_answer(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    result = run_analyst_query(sales_db, "top-members")
    assert result.columns == [
        "spending_rank",
        "membership_id",
        "first_name",
        "last_name",
        "total_spent",
        "transaction_count",
    ]
    assert result.rows == TOP_MEMBERS


def test_top_items_exact_answer(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    result = run_analyst_query(sales_db, "top-items")
    assert result.columns == [
        "purchase_rank",
        "item_id",
        "item_name",
        "manufacturer_name",
        "purchase_count",
        "units_sold",
    ]
    assert result.rows == TOP_ITEMS


def test_summaries_answer_like_the_base_tables(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        assert run_sql_file(conn, "salesdb/reference_top_members.sql").rows == TOP_MEMBERS
        assert run_sql_file(conn, "salesdb/reference_top_items.sql").rows == TOP_ITEMS
        assert run_sql_file(conn, "salesdb/check_summaries.sql").rows == []


def test_price_change_leaves_past_transactions_alone(sales_db: str) -> None:
    apply_sql_file(sales_db, "fixture_sales.sql")
    with psycopg.connect(sales_db) as conn:
        rows = conn.execute(
            "select transaction_id, total_price from sales.transactions"
            " where transaction_id in (1, 5, 14) order by transaction_id"
        ).fetchall()
    assert rows == [(1, Decimal("200.00")), (5, Decimal("100.00")), (14, Decimal("25.00"))]


def test_cli_prints_both_answers(db_env: str) -> None:
    apply_sql_file(db_env, "fixture_sales.sql")
    runner = CliRunner()
    members = runner.invoke(app, ["db", "query", "top-members", "--csv"])
    assert members.exit_code == 0, members.output
    assert members.output.splitlines() == [
        "spending_rank,membership_id,first_name,last_name,total_spent,transaction_count",
        *(",".join(str(v) for v in row) for row in TOP_MEMBERS),
    ]
    items = runner.invoke(app, ["db", "query", "top-items", "--csv"])
    assert items.exit_code == 0, items.output
    assert items.output.splitlines() == [
        "purchase_rank,item_id,item_name,manufacturer_name,purchase_count,units_sold",
        *(",".join(str(v) for v in row) for row in TOP_ITEMS),
    ]
    table = runner.invoke(app, ["db", "query", "top-items"])
    assert table.exit_code == 0, table.output
    cells = [line.strip("│ ").split(" │ ") for line in table.output.splitlines()]
    body = [[c.strip() for c in row] for row in cells if len(row) == 6]
    assert body == [[str(v) for v in row] for row in TOP_ITEMS]
    assert table.output.splitlines()[0].strip() == (
        "Top 3 items by number of purchases (not cancelled; ties included)"
    )


def test_empty_database_gives_empty_answers(sales_db: str) -> None:
    assert run_analyst_query(sales_db, "top-members").rows == []
    assert run_analyst_query(sales_db, "top-items").rows == []


def test_check_command_reports_drift(db_env: str) -> None:
    apply_sql_file(db_env, "fixture_sales.sql")
    runner = CliRunner()
    ok = runner.invoke(app, ["db", "check"])
    assert (ok.exit_code, ok.stdout) == (
        0,
        "summaries consistent: member_spending, item_sales and transaction totals\n",
    )
    with psycopg.connect(db_env) as conn:  # a superuser can still tamper; check must notice
        conn.execute("select sales.roll_up_summaries()")  # the fixture's deltas into the rows
        conn.execute(
            "update sales.member_spending set total_spent = 1 where membership_id = 'Ang_00001'"
        )
    drift = runner.invoke(app, ["db", "check"])
    assert drift.exit_code == 1
    assert drift.stderr == (
        "member_spending Ang_00001: stored 1.00/1, recomputed 200.00/1\n"
        "Error: 1 summary rows differ from the base tables\n"
    )
