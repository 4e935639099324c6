"""The dbt models of the analytics layer (``shopdata/analytics/project/``) as Dagster assets.

dagster-dbt reads the project's manifest: one asset per model (``staging/...``, ``marts/...``),
one asset check per generic dbt test on a model. Each dbt source names the platform asset that
writes its table (``meta.dagster.asset_key`` in ``_sources.yml``), so the models hang below
``sales_members``, ``sales_transactions`` and ``sales_catalogue`` in one lineage graph. Wiring
only: dbt runs through :func:`shopdata.orchestration.resources.dbt_build`, the code path of
``shopdata db refresh-analytics``.
"""

from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from shopdata.orchestration import resources
from shopdata.orchestration.assets import failure

ANALYTICS_GROUP = "analytics"


class AnalyticsTranslator(DagsterDbtTranslator):
    """Every model in the ``analytics`` group; keys as dagster-dbt makes them (schema/model)."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return ANALYTICS_GROUP


#: Several sources (transactions, line items, the summaries) are written by one asset.
TRANSLATOR = AnalyticsTranslator(
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)


class RefreshConfig(dg.Config):
    """Run config of the dbt step (the weekly schedule sets it; the UI's launchpad too)."""

    full_refresh: bool = False
    """Rebuild the incremental marts from scratch (``dbt build --full-refresh``)."""


@dbt_assets(
    manifest=resources.dbt_manifest(),
    dagster_dbt_translator=TRANSLATOR,
    name="analytics_models",
)
def analytics_models(context: AssetExecutionContext, config: RefreshConfig) -> Iterator[Any]:
    """``dbt build`` of the selected models and their tests, as the role analytics_refresh
    (``--full-refresh`` when the run config asks).

    Skipped, not failed, when another refresh holds the database's refresh lock (the one under
    way does the work, as with the members' run lock); a failed model or test fails the step
    with one line naming it.
    """
    s = resources.settings()
    try:
        url = resources.database_url(s)
    except Exception as error:
        raise failure(error) from error
    try:
        yield from resources.dbt_build(context, url, full_refresh=config.full_refresh)
    except resources.RefreshBusy as busy:
        context.log.warning(f"skipped: {busy}; the refresh holding it does the work")
    except resources.DbtError as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    except Exception as error:  # the lock's connection: retried when transient, as elsewhere
        raise failure(error) from error


#: The dbt models' asset keys (``staging/stg_sales__purchases``, ``marts/fct_purchases``, ...).
ANALYTICS_KEYS: list[dg.AssetKey] = sorted(analytics_models.keys, key=lambda k: k.to_user_string())

ANALYTICS_ASSETS: list[dg.AssetsDefinition] = [analytics_models]
