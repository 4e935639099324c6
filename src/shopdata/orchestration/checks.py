"""Asset checks: each reads what its asset left (report, database, cache, metrics) and says
passed or not, with the sentence why. Severity WARN for what needs a look, ERROR for what is wrong.

Each check can be run again on its own from the UI: it reads the stored state, not the run.
"""

import json
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetCheckExecutionContext

from shopdata.orchestration import resources
from shopdata.orchestration.assets import (
    carprice_model,
    covid_series,
    membership_runs,
    top_items,
    top_members,
)
from shopdata.orchestration.rules import (
    Outcome,
    accuracy_outcome,
    flags_outcome,
    quarantine_outcome,
    share_outcome,
    summaries_outcome,
)


def _result(
    outcome: Outcome, severity: dg.AssetCheckSeverity, **metadata: Any
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=outcome.passed,
        severity=severity,
        description=outcome.description,
        metadata={"verdict": outcome.description, **metadata},
    )


def _latest_report(context: AssetCheckExecutionContext) -> dict[str, Any] | None:
    """The run report of the membership run last materialised (None: none yet)."""
    event = context.instance.get_latest_materialization_event(membership_runs.key)
    if event is None or event.asset_materialization is None:
        return None
    path = event.asset_materialization.metadata["report"].value
    document: dict[str, Any] = json.loads(Path(str(path)).read_text(encoding="utf-8"))
    return document


@dg.asset_check(
    asset=membership_runs,
    description="No file of the run went to quarantine (malformed, or a duplicate file): WARN.",
)
def no_quarantined_files(context: AssetCheckExecutionContext) -> dg.AssetCheckResult:
    document = _latest_report(context)
    files = document["files_detail"] if document else []
    return _result(quarantine_outcome(files), dg.AssetCheckSeverity.WARN)


@dg.asset_check(
    asset=membership_runs,
    description="The run's successful share lies within orchestration.successful_share_min/max.",
)
def successful_share_in_band(context: AssetCheckExecutionContext) -> dg.AssetCheckResult:
    document = _latest_report(context)
    totals = document["totals"] if document else {}
    o = resources.settings().orchestration
    outcome = share_outcome(
        int(totals.get("successful", 0)),
        int(totals.get("rows_in", 0)),
        o.successful_share_min,
        o.successful_share_max,
    )
    return _result(
        outcome,
        dg.AssetCheckSeverity.ERROR,
        band_min=o.successful_share_min,
        band_max=o.successful_share_max,
    )


def _summaries_check(asset: dg.AssetsDefinition) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name="summaries_match_base_tables",
        description="`db check`: the stored summaries the answer reads equal a recomputation "
        "from the base tables.",
    )
    def check() -> dg.AssetCheckResult:
        s = resources.settings()
        differences = resources.summary_differences(resources.database_url(s))
        return _result(
            summaries_outcome(differences), dg.AssetCheckSeverity.ERROR, rows=len(differences)
        )

    return check


@dg.asset_check(
    asset=covid_series,
    description="The cached series has no count the source took back and no implausible jump "
    "(the dashboard flags them): WARN.",
)
def no_suspect_counts() -> dg.AssetCheckResult:
    flags = resources.covid_flags(resources.settings())
    if flags is None:
        return _result(Outcome(False, "no cached series"), dg.AssetCheckSeverity.WARN)
    anomalies, jumps = flags
    return _result(
        flags_outcome(anomalies, jumps),
        dg.AssetCheckSeverity.WARN,
        anomalies=len(anomalies),
        jumps=len(jumps),
    )


@dg.asset_check(
    asset=carprice_model,
    description="The chosen model's cross-validated accuracy is not above the data's ceiling "
    "(a lookup table's accuracy on the whole data); above it means leakage.",
)
def accuracy_within_ceiling() -> dg.AssetCheckResult:
    metrics = resources.model_metrics(resources.settings())
    if metrics is None:
        return _result(Outcome(False, "no model trained"), dg.AssetCheckSeverity.ERROR)
    return _result(accuracy_outcome(metrics), dg.AssetCheckSeverity.ERROR)


CHECKS: list[dg.AssetChecksDefinition] = [
    no_quarantined_files,
    successful_share_in_band,
    _summaries_check(top_members),
    _summaries_check(top_items),
    no_suspect_counts,
    accuracy_within_ceiling,
]
