"""One asset per data product, wired in lineage order. Wiring only: the work is in the components.

membership_runs -> sales_members -> top_members, top_items (which also read sales_transactions,
the checkout's writes: an external asset); covid_series; carprice_model. The dbt models of the
analytics layer (below sales_members, sales_transactions and sales_catalogue) are in
:mod:`shopdata.orchestration.analytics`.
"""

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from shopdata.orchestration import resources
from shopdata.orchestration.rules import is_transient, one_line

MEMBERS_GROUP = "members"
SALES_GROUP = "sales"
COVID_GROUP = "covid"
CARPRICE_GROUP = "carprice"


def failure(error: Exception) -> Exception:
    """A transient error as it is (Dagster retries it); any other as a one-line, final Failure."""
    if is_transient(error, (resources.ApiError,)):
        return error
    return dg.Failure(description=one_line(error), allow_retries=False)


def _plain(value: Any) -> str | int | float | bool | None:
    """A database value for a metadata table: Decimal kept exact as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def table(result: resources.QueryResult) -> dg.TableMetadataValue:
    """An analyst answer as a metadata table, columns and rows as the query returns them."""
    schema = dg.TableSchema(
        columns=[
            dg.TableColumn(name, "string" if not result.rows else _kind(result, i))
            for i, name in enumerate(result.columns)
        ]
    )
    records = [
        dg.TableRecord(dict(zip(result.columns, map(_plain, row), strict=True)))
        for row in result.rows
    ]
    return dg.MetadataValue.table(records=records, schema=schema)


def _kind(result: resources.QueryResult, index: int) -> str:
    value = result.rows[0][index]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "decimal"
    return "string"


def members_metadata(document: resources.RunDocument) -> dict[str, Any]:
    """The run report's counts, quarantined files and reasons as asset metadata."""
    totals = document.totals
    quarantined = [f for f in document.files_detail if f.status != "processed"]
    report = document.outputs.report if document.outputs else ""
    return {
        "run_id": document.run_id,
        "report": dg.MetadataValue.path(f"{document.output}/{report}"),
        "files": totals.files,
        "files_processed": totals.files_processed,
        "files_quarantined": totals.files_quarantined,
        "files_duplicate": totals.files_duplicate,
        "rows_in": totals.rows_in,
        "successful": totals.successful,
        "unsuccessful": totals.unsuccessful,
        "duplicate_applications": totals.duplicate_applications,
        "unsuccessful_by_reason": dg.MetadataValue.json(document.unsuccessful_by_reason),
        "quarantined": dg.MetadataValue.table(
            records=[
                dg.TableRecord({"file": f.name, "status": f.status, "reason": f.error or ""})
                for f in quarantined
            ],
            schema=dg.TableSchema(
                columns=[
                    dg.TableColumn("file", "string"),
                    dg.TableColumn("status", "string"),
                    dg.TableColumn("reason", "string"),
                ]
            ),
        ),
    }


@dg.asset(
    group_name=MEMBERS_GROUP,
    output_required=False,
    kinds={"python", "csv"},
    description="One run of the membership pipeline (`shopdata members run`) over the landing "
    "folder. Not materialised when no file is ready, or when another run holds the lock (the "
    "run is skipped, not failed).",
)
def membership_runs(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult[None]]:
    s = resources.settings()
    try:
        report = resources.run_members(s)
    except resources.LockBusy as busy:
        context.log.warning(f"skipped: {busy}; the run holding the lock does the work")
        return
    except Exception as error:
        raise failure(error) from error
    if report.run_id is None:
        context.log.info("no file ready in the landing folder; nothing to do")
        return
    try:
        metadata = members_metadata(report.document)
    except Exception as error:
        # The run has committed and its files have left the landing folder: a retry would find
        # nothing ready and succeed without a materialisation, skipping the load. Fail, final.
        raise dg.Failure(
            description=f"run {report.run_id} committed, but its report could not be turned "
            f"into metadata: {one_line(error)}",
            allow_retries=False,
        ) from error
    yield dg.MaterializeResult(metadata=metadata)


@dg.asset(
    deps=[membership_runs],
    group_name=SALES_GROUP,
    kinds={"postgres"},
    description="sales.members: every committed run's successful members, loaded with "
    "`db load-members` (one transaction, idempotent). Starts the embedded PostgreSQL if needed.",
)
def sales_members(context: AssetExecutionContext) -> dg.MaterializeResult[None]:
    s = resources.settings()
    try:
        report = resources.load_members(resources.database_url(s), s)
    except Exception as error:
        raise failure(error) from error
    return dg.MaterializeResult(
        metadata={
            "files": report.files,
            "rows": report.rows,
            "new": report.new,
            "already_present": report.already_present,
        }
    )


sales_transactions = dg.AssetSpec(
    "sales_transactions",
    group_name=SALES_GROUP,
    kinds={"postgres"},
    description="sales.transactions and their line items: written by the checkout "
    "(shopdata.salesdb.purchases) and `db load-sales`, not by a job here.",
)


sales_catalogue = dg.AssetSpec(
    "sales_catalogue",
    group_name=SALES_GROUP,
    kinds={"postgres"},
    description="sales.items and sales.manufacturers, the catalogue: written by `db load-sales` "
    "and the catalogue's maintainers, not by a job here.",
)


def _answer(name: str, key: str, title: str) -> dg.AssetsDefinition:
    @dg.asset(
        name=key,
        deps=[sales_members, sales_transactions],
        group_name=SALES_GROUP,
        kinds={"postgres", "sql"},
        description=f"{title} (`shopdata db query {name}`, sql/analyst/).",
    )
    def answer() -> dg.MaterializeResult[None]:
        s = resources.settings()
        try:
            result = resources.analyst_answer(resources.database_url(s), name)
        except Exception as error:
            raise failure(error) from error
        return dg.MaterializeResult(metadata={"answer": table(result), "rows": len(result.rows)})

    return answer


top_members = _answer(
    "top-members", "top_members", "Top 10 members by spending (not cancelled; ties included)"
)
top_items = _answer(
    "top-items", "top_items", "Top 3 items by number of purchases (not cancelled; ties included)"
)


@dg.asset(
    group_name=COVID_GROUP,
    kinds={"python", "json"},
    description="The COVID-19 Singapore series cache (`shopdata covid fetch`): the live API's "
    "answer, validated, written atomically. A failed fetch leaves the cache as it was.",
)
def covid_series() -> dg.MaterializeResult[None]:
    try:
        refresh = resources.refresh_covid(resources.settings())
    except Exception as error:
        raise failure(error) from error
    return dg.MaterializeResult(
        metadata={
            "source": dg.MetadataValue.url(refresh.url),
            "cache": dg.MetadataValue.path(str(refresh.path)),
            "days": refresh.days,
            "first_day": refresh.first.isoformat(),
            "last_day": refresh.last.isoformat(),
            "last_cumulative": refresh.last_cumulative,
            "attempts": refresh.attempts,
            "retried": ", ".join(refresh.retries),
        }
    )


@dg.asset(
    group_name=CARPRICE_GROUP,
    kinds={"scikitlearn"},
    description="The car buying-price model (`shopdata carprice train`): every family "
    "cross-validated, the best refitted, model and metrics written. On demand.",
)
def carprice_model() -> dg.MaterializeResult[None]:
    try:
        metrics = resources.train_model(resources.settings())
    except Exception as error:
        raise failure(error) from error
    chosen = metrics["selection"]["chosen"]
    scheme = metrics["selection"]["scheme"]
    scores = metrics["scores"][scheme][chosen]
    return dg.MaterializeResult(
        metadata={
            "chosen": chosen,
            "runner_up": metrics["selection"]["runner_up"],
            "scheme": scheme,
            "accuracy_mean": scores["accuracy"]["mean"],
            "macro_f1_mean": scores["macro_f1"]["mean"],
            "log_loss_mean": scores["log_loss"]["mean"],
            "ceiling_accuracy": metrics["ceiling"]["best"]["accuracy"],
            "rows": metrics["data"]["rows"],
            "data_sha256": metrics["data"]["sha256"],
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
    )


ASSETS: list[dg.AssetsDefinition | dg.AssetSpec] = [
    membership_runs,
    sales_members,
    sales_transactions,
    sales_catalogue,
    top_members,
    top_items,
    covid_series,
    carprice_model,
]
