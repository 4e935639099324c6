"""The dbt models of the analytics layer in the Dagster asset graph (dagster-dbt), materialised
in-process on the bundled samples against the suite's PostgreSQL.

The membership job (run, load, answers, dbt models) first; then the checkout's purchases land in
the database and the analytics job refreshes the marts incrementally. Every catalogue question
then equals its plain base-table reference (tests/analytics/reference). A refresh that finds the
lock held is skipped, a failing dbt test fails the step naming the test.
"""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest

from shopdata.analytics.catalogue import question_files, run_question
from shopdata.orchestration.analytics import ANALYTICS_ASSETS, ANALYTICS_KEYS, analytics_models
from shopdata.orchestration.assets import ASSETS
from shopdata.orchestration.automation import JOBS, SCHEDULES
from shopdata.orchestration.checks import CHECKS
from shopdata.orchestration.definitions import defs
from shopdata.resources import read_sql
from shopdata.salesdb.sales_loader import load_sales

from .conftest import World

HERE = Path(__file__).resolve().parent
SALES = HERE / "data" / "sales"
#: The catalogue's plain base-table references, shared with tests/analytics.
REFERENCE_DIR = HERE.parent / "analytics" / "reference"
MODELS = {
    "staging/stg_sales__items",
    "staging/stg_sales__line_items",
    "staging/stg_sales__members",
    "staging/stg_sales__purchases",
    "staging/stg_sales__removed_purchases",
    "marts/agg_daily_basket_sizes",
    "marts/agg_daily_sales",
    "marts/agg_daily_shipments",
    "marts/agg_member_cohorts",
    "marts/agg_member_frequency",
    "marts/agg_member_recency",
    "marts/agg_monthly_item_sales",
    "marts/dim_items",
    "marts/dim_members",
    "marts/fct_line_items",
    "marts/fct_purchases",
}


def fetch(url: str, query: str | bytes) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(query.encode() if isinstance(query, str) else query).fetchall())


def run_job(
    name: str, instance: dg.DagsterInstance, run_config: dict[str, Any] | None = None
) -> dg.ExecuteInProcessResult:
    jobs = dg.Definitions(
        assets=[*ASSETS, *ANALYTICS_ASSETS], asset_checks=CHECKS, jobs=JOBS
    ).resolve_job_def(name)
    return jobs.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)


def models_materialised(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        e.asset_key.to_user_string()
        for e in result.asset_materializations_for_node("analytics_models")
    }


@pytest.fixture(scope="module")
def instance(world: World) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.get() as kept:
        yield kept


@pytest.fixture(scope="module")
def runs(world: World, instance: dg.DagsterInstance) -> dict[str, dg.ExecuteInProcessResult]:
    first = run_job("membership_job", instance)
    load_sales(world.database_url, SALES)  # the checkout's purchases of loaded members
    second = run_job("analytics_job", instance)
    return {"membership": first, "analytics": second}


def test_dbt_models_hang_below_the_platforms_assets() -> None:
    graph = defs.resolve_asset_graph()
    assert {k.to_user_string() for k in ANALYTICS_KEYS} == MODELS

    def parents(key: str) -> set[str]:
        return {
            p.to_user_string() for p in graph.get(dg.AssetKey.from_user_string(key)).parent_keys
        }

    assert parents("staging/stg_sales__members") == {"sales_members"}
    assert parents("staging/stg_sales__purchases") == {"sales_members", "sales_transactions"}
    assert parents("staging/stg_sales__line_items") == {"sales_transactions"}
    assert parents("staging/stg_sales__items") == {"sales_catalogue"}
    assert parents("staging/stg_sales__removed_purchases") == {"sales_transactions"}
    below_load = dg.AssetSelection.assets("membership_runs").downstream().resolve(graph)
    marts = {k for k in ANALYTICS_KEYS if k.path[0] == "marts"}
    assert marts <= below_load  # membership load -> sales_members -> staging -> marts
    assert graph.get(dg.AssetKey(["marts", "fct_purchases"])).group_name == "analytics"


def test_both_jobs_build_every_model(runs: dict[str, dg.ExecuteInProcessResult]) -> None:
    assert runs["membership"].success
    assert runs["analytics"].success
    assert models_materialised(runs["membership"]) == MODELS
    assert models_materialised(runs["analytics"]) == MODELS
    # dbt's generic tests on one model are asset checks, every one passed
    checks = runs["analytics"].get_asset_check_evaluations()
    assert len(checks) >= 20
    assert [c.check_name for c in checks if not c.passed] == []


def test_the_refresh_ran_as_analytics_refresh(runs: dict[str, Any], world: World) -> None:
    owners = fetch(
        world.database_url,
        "select distinct tableowner from pg_tables where schemaname = 'marts'",
    )
    assert owners == [("analytics_refresh",)]


def test_marts_after_the_membership_load(runs: dict[str, Any], world: World) -> None:
    # 706 members loaded, all in dim_members (the first build saw no purchase yet: the
    # analytics job built the purchases' rows below).
    assert fetch(world.database_url, "select count(*) from marts.dim_members") == [(706,)]


@pytest.mark.parametrize("name", sorted(question_files()))
def test_every_question_equals_its_reference(runs: dict[str, Any], world: World, name: str) -> None:
    answer = run_question(world.database_url, name)
    reference = fetch(
        world.database_url, (REFERENCE_DIR / f"{name.replace('-', '_')}.sql").read_bytes()
    )
    assert answer.rows == reference


def test_marts_hold_the_samples_exact_rows(runs: dict[str, Any], world: World) -> None:
    url = world.database_url
    assert fetch(
        url,
        "select transaction_id, status, is_counted, revenue, line_count "
        "from marts.fct_purchases order by transaction_id",
    ) == [
        (1, "completed", True, Decimal("45.00"), 2),
        (2, "pending", True, Decimal("30.00"), 1),
        (3, "cancelled", False, Decimal("120.00"), 1),
        (4, "completed", True, Decimal("32.00"), 2),
        (5, "completed", True, Decimal("5.00"), 1),
    ]
    rows = run_question(url, "revenue-by-month").rows
    assert [tuple(map(str, r)) for r in rows] == [("2024-03-01", "4", "112.00")]


def test_the_weekly_full_refresh_rebuilds_the_same_marts(
    runs: dict[str, Any], instance: dg.DagsterInstance, world: World
) -> None:
    weekly = {s.name: s for s in SCHEDULES}["analytics_weekly_full_refresh"]
    assert (weekly.cron_schedule, weekly.job_name) == ("0 3 * * 0", "analytics_job")
    query = "select transaction_id, status, is_counted, revenue, line_count, refreshed_at "
    query += "from marts.fct_purchases order by transaction_id"
    before = fetch(world.database_url, query)
    with dg.build_schedule_context(instance=instance) as context:
        [request] = weekly.evaluate_tick(context).run_requests
    assert request.run_config == {"ops": {"analytics_models": {"config": {"full_refresh": True}}}}
    result = run_job("analytics_job", instance, dict(request.run_config))
    assert result.success
    assert models_materialised(result) == MODELS
    after = fetch(world.database_url, query)
    assert [r[:5] for r in after] == [r[:5] for r in before]
    # rebuilt from scratch: every purchase written by this run, not only the pending one
    assert len({r[5] for r in after}) == 1 and after[0][5] > before[0][5]


def test_a_refresh_that_finds_the_lock_held_is_skipped(
    runs: dict[str, Any], instance: dg.DagsterInstance, world: World
) -> None:
    with psycopg.connect(world.database_url, autocommit=True) as holder:
        holder.execute(read_sql("shopdata.analytics", "lock_refresh.sql").encode())
        result = run_job("analytics_job", instance)
    assert result.success
    assert models_materialised(result) == set()
    warnings = [
        e.message
        for e in instance.all_logs(result.run_id)
        if e.level == 30 and e.message and "skipped" in e.message
    ]
    assert warnings == [
        "skipped: another analytics refresh holds the refresh lock of this database; "
        "the refresh holding it does the work"
    ]


def test_a_failing_dbt_test_fails_the_run_naming_it(
    runs: dict[str, Any], instance: dg.DagsterInstance, world: World
) -> None:
    """Last in this module: it corrupts the shared database's marts."""
    with psycopg.connect(world.database_url) as conn:
        conn.execute(
            b"insert into marts.fct_purchases (transaction_id, member_key, status, is_counted, "
            b"created_at, created_day, created_month, revenue, units, weight_kg, line_count, "
            b"changed_at, refreshed_at) select 999, member_key, 'completed', true, "
            b"'2024-03-01', '2024-03-01', '2024-03-01', 1, 1, 1, 1, '2024-03-01', "
            b"'2024-03-01' from marts.dim_members limit 1"
        )
    result = run_job("analytics_job", instance)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert failure.step_key == "analytics_models"
    description = failure.step_failure_data.user_failure_data.description
    assert description == (
        "dbt build failed: test purchases_equal_source fail "
        "(Got 1 result, configured to fail if != 0)"
    )
    assert analytics_models.op.name == "analytics_models"
