"""The code location: ``dagster dev -m shopdata.orchestration.definitions``.

The dbt project (``shopdata/analytics/project/``, issue 21) joins here: its ``@dbt_assets``
(dagster-dbt, :mod:`shopdata.orchestration.analytics`), with dbt sources mapped to the asset keys
``sales_members``, ``sales_transactions`` and ``sales_catalogue`` so that its models hang below
them in the graph.
"""

from __future__ import annotations

import dagster as dg

from shopdata.orchestration.assets import ASSETS
from shopdata.orchestration.automation import JOBS, SCHEDULES, SENSORS
from shopdata.orchestration.checks import CHECKS


def analytics_assets() -> list[dg.AssetsDefinition]:
    """The dbt models of analytics/project/ (issue 21): one multi-asset, one asset per model."""
    from shopdata.orchestration.analytics import ANALYTICS_ASSETS

    return ANALYTICS_ASSETS


defs = dg.Definitions(
    assets=[*ASSETS, *analytics_assets()],
    asset_checks=CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
)
