"""The whole asset graph materialised in-process on the bundled samples, against the suite's
PostgreSQL and a real HTTP server playing the COVID API: exact metadata and every check's verdict.

Two materialisations share one Dagster instance (a DAGSTER_HOME of the world's): the membership
run and the database load first; then the checkout's purchases land in the database (the
``sales_transactions`` asset is written outside the orchestration), then both answers, the
COVID cache and the model.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import psycopg
import pytest

from shopdata.orchestration.assets import (
    ASSETS,
    carprice_model,
    covid_series,
    membership_runs,
    sales_members,
    top_items,
    top_members,
)
from shopdata.orchestration.checks import CHECKS, successful_share_in_band
from shopdata.salesdb.sales_loader import load_sales

from .conftest import MALFORMED_NAME, World

SALES = __import__("pathlib").Path(__file__).resolve().parent / "data" / "sales"

MISSING_COLUMNS = (
    "missing_columns: missing required column(s): name, email, date_of_birth, mobile_no "
    "(header: customer, amount)"
)
CONSISTENT = "summaries consistent: member_spending, item_sales, totals"
CEILING = "naive_bayes: accuracy grouped 0.3160, stratified 0.2760; ceiling 0.3582"
TOP_MEMBERS = [
    {
        "spending_rank": 1,
        "membership_id": "Smith_c7677",
        "first_name": "Patty",
        "last_name": "Smith",
        "total_spent": "45.00",
        "transaction_count": 1,
    },
    {
        "spending_rank": 2,
        "membership_id": "Cline_825fb",
        "first_name": "Jackson",
        "last_name": "Cline",
        "total_spent": "32.00",
        "transaction_count": 1,
    },
    {
        "spending_rank": 3,
        "membership_id": "Wang_04168",
        "first_name": "Sean",
        "last_name": "Wang",
        "total_spent": "30.00",
        "transaction_count": 1,
    },
    {
        "spending_rank": 4,
        "membership_id": "Williams_3e726",
        "first_name": "Allen",
        "last_name": "Williams",
        "total_spent": "5.00",
        "transaction_count": 1,
    },
]
TOP_ITEMS = [
    {
        "purchase_rank": 1,
        "item_id": 1,
        "item_name": "Kettle",
        "manufacturer_name": "Acme",
        "purchase_count": 2,
        "units_sold": 3,
    },
    {
        "purchase_rank": 1,
        "item_id": 2,
        "item_name": "Mug",
        "manufacturer_name": "Globex",
        "purchase_count": 2,
        "units_sold": 2,
    },
    {
        "purchase_rank": 3,
        "item_id": 3,
        "item_name": "Toaster",
        "manufacturer_name": "Acme",
        "purchase_count": 1,
        "units_sold": 1,
    },
    {
        "purchase_rank": 3,
        "item_id": 4,
        "item_name": "Teapot",
        "manufacturer_name": "Globex",
        "purchase_count": 1,
        "units_sold": 1,
    },
]


def materialize(
    instance: dg.DagsterInstance, *keys: dg.AssetsDefinition
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*ASSETS, *CHECKS],
        selection=dg.AssetSelection.assets(*keys),
        instance=instance,
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def instance(world: World) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.get() as kept:
        yield kept


@pytest.fixture(scope="module")
def runs(world: World, instance: dg.DagsterInstance) -> dict[str, dg.ExecuteInProcessResult]:
    first = materialize(instance, membership_runs, sales_members)
    load_sales(world.database_url, SALES)  # the checkout's purchases of loaded members
    second = materialize(instance, top_members, top_items, covid_series, carprice_model)
    return {"first": first, "second": second}


def metadata(result: dg.ExecuteInProcessResult, node: str) -> dict[str, Any]:
    [event] = result.asset_materializations_for_node(node)
    return {key: value.value for key, value in event.metadata.items()}


def verdicts(*results: dg.ExecuteInProcessResult) -> dict[tuple[str, str], tuple[bool, str, str]]:
    return {
        (e.asset_key.to_user_string(), e.check_name): (
            e.passed,
            e.severity.value,
            e.description or "",
        )
        for result in results
        for e in result.get_asset_check_evaluations()
    }


def test_both_runs_succeed(runs: dict[str, dg.ExecuteInProcessResult]) -> None:
    assert runs["first"].success
    assert runs["second"].success


def test_membership_run_carries_the_report(
    runs: dict[str, dg.ExecuteInProcessResult], world: World
) -> None:
    meta = metadata(runs["first"], "membership_runs")
    assert meta["successful"] == 706
    assert meta["unsuccessful"] == 4293
    assert meta["rows_in"] == 4999
    assert (
        meta["files"],
        meta["files_processed"],
        meta["files_quarantined"],
        meta["files_duplicate"],
    ) == (3, 2, 1, 0)
    assert meta["unsuccessful_by_reason"] == {
        "email_domain_not_allowed": 1476,
        "mobile_invalid": 3758,
        "under_18": 1063,
    }
    [row] = meta["quarantined"].records
    assert row.data == {"file": MALFORMED_NAME, "status": "quarantined", "reason": MISSING_COLUMNS}
    assert list(world.landing.iterdir()) == []


def test_members_loaded_into_the_database(
    runs: dict[str, dg.ExecuteInProcessResult], world: World
) -> None:
    assert metadata(runs["first"], "sales_members") == {
        "files": 1,
        "rows": 706,
        "new": 706,
        "already_present": 0,
    }
    with psycopg.connect(world.database_url) as conn:
        assert conn.execute(b"select count(*) from sales.members").fetchone() == (706,)


def test_both_analyst_answers_as_tables(runs: dict[str, dg.ExecuteInProcessResult]) -> None:
    members = metadata(runs["second"], "top_members")
    assert members["rows"] == 4
    assert [r.data for r in members["answer"].records] == TOP_MEMBERS
    items = metadata(runs["second"], "top_items")
    assert items["rows"] == 4
    assert [r.data for r in items["answer"].records] == TOP_ITEMS


def test_covid_cache_and_model(runs: dict[str, dg.ExecuteInProcessResult], world: World) -> None:
    covid = metadata(runs["second"], "covid_series")
    assert covid["attempts"] == 1
    assert covid["source"] == f"{world.covid_url}/dayone/country/singapore/status/confirmed"
    assert (covid["days"], covid["first_day"], covid["last_day"], covid["last_cumulative"]) == (
        1142,
        "2020-01-23",
        "2023-03-09",
        2_235_294,
    )
    assert covid["cache"] == str(world.root / "covid" / "singapore_confirmed.json")
    model = metadata(runs["second"], "carprice_model")
    assert (model["chosen"], model["runner_up"], model["scheme"], model["rows"]) == (
        "naive_bayes",
        "decision_tree",
        "grouped",
        1728,
    )
    assert round(model["accuracy_mean"], 4) == 0.3160
    assert round(model["ceiling_accuracy"], 4) == 0.3582
    assert (world.root / "carprice" / "model.skops").is_file()


def test_every_check_verdict(runs: dict[str, dg.ExecuteInProcessResult]) -> None:
    got = verdicts(runs["first"], runs["second"])
    assert got == {
        ("membership_runs", "no_quarantined_files"): (
            False,
            "WARN",
            f"1 of 3 files quarantined: {MALFORMED_NAME} (quarantined: {MISSING_COLUMNS})",
        ),
        ("membership_runs", "successful_share_in_band"): (
            True,
            "ERROR",
            "successful share 14.1% (706 of 4,999) within [5%, 60%]",
        ),
        ("top_members", "summaries_match_base_tables"): (True, "ERROR", CONSISTENT),
        ("top_items", "summaries_match_base_tables"): (True, "ERROR", CONSISTENT),
        ("covid_series", "no_suspect_counts"): (True, "WARN", "no suspect counts"),
        ("carprice_model", "accuracy_within_ceiling"): (True, "ERROR", CEILING),
    }


def check_only(instance: dg.DagsterInstance, check: Any) -> tuple[bool, str, str]:
    """Run one check again on its own, as the UI's "Execute" button does."""
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        selection=dg.AssetSelection.checks(check),
        instance=instance,
        raise_on_error=False,
    )
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation.passed, evaluation.severity.value, evaluation.description or ""


def test_share_outside_the_band_fails_the_check(
    runs: dict[str, dg.ExecuteInProcessResult],
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shopdata.config import get_settings

    monkeypatch.setenv("SHOPDATA_ORCHESTRATION__SUCCESSFUL_SHARE_MIN", "0.5")
    monkeypatch.setenv("SHOPDATA_ORCHESTRATION__SUCCESSFUL_SHARE_MAX", "0.9")
    get_settings.cache_clear()
    try:
        assert check_only(instance, successful_share_in_band) == (
            False,
            "ERROR",
            "successful share 14.1% (706 of 4,999) below the band [50%, 90%]",
        )
    finally:
        get_settings.cache_clear()


def test_a_drifted_summary_fails_db_check(
    runs: dict[str, dg.ExecuteInProcessResult], instance: dg.DagsterInstance, world: World
) -> None:
    """Last in this module: it corrupts the shared database."""
    with psycopg.connect(world.database_url) as conn:
        conn.execute(b"select sales.roll_up_summaries()")
        conn.execute(
            b"update sales.member_spending set total_spent = total_spent + 1 "
            b"where membership_id = 'Wang_04168'"
        )
    [summaries] = [c for c in CHECKS if c.check_key.asset_key == top_members.key]
    passed, severity, description = check_only(instance, summaries)
    assert (passed, severity) == (False, "ERROR")
    assert description == (
        "1 summary rows differ from the base tables (first: member_spending Wang_04168: "
        "stored 31.00/1, recomputed 30.00/1)"
    )
