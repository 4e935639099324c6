"""When the assets run: a sensor on the landing folder plus an hourly backstop for the
membership runs (the database load, both answers and the dbt models follow in the same run), the
dbt models again on their own schedule (the checkout's purchases arrive between loads), the
COVID cache daily, the model on demand.
"""

import dagster as dg
from dagster import SensorEvaluationContext

from shopdata.orchestration import resources
from shopdata.orchestration.analytics import ANALYTICS_KEYS, analytics_models
from shopdata.orchestration.assets import (
    carprice_model,
    covid_series,
    membership_runs,
    sales_members,
    top_items,
    top_members,
)
from shopdata.orchestration.rules import cron_for, landing_run_key


def retry_policy() -> dg.RetryPolicy:
    """Every step of the jobs: retries with exponential back-off, from the settings.

    Only transient errors are retried: an asset turns any other into a final ``Failure``.
    """
    o = resources.settings().orchestration
    return dg.RetryPolicy(
        max_retries=o.max_retries, delay=o.retry_delay_s, backoff=dg.Backoff.EXPONENTIAL
    )


#: membership run -> sales.members -> both analyst answers and the dbt models, with their checks.
#: Every dbt model, not only those below sales_members: stg_sales__removed_purchases (what the
#: checkout deleted) must be rebuilt before fct_purchases in every refresh. The dbt step is one
#: op below sales_members, so it is skipped with the load when no run processed files.
membership_job = dg.define_asset_job(
    "membership_job",
    selection=dg.AssetSelection.assets(membership_runs).downstream()
    | dg.AssetSelection.assets(analytics_models),
    description="A membership run, then the load into the sales database, both answers and "
    "the dbt models of the analytics layer (dbt build).",
    tags={"shopdata/job": "membership"},  # for a run queue limit (docs/orchestration.md)
    op_retry_policy=retry_policy(),
)
covid_job = dg.define_asset_job(
    "covid_job",
    selection=dg.AssetSelection.assets(covid_series),
    description="covid fetch",
    op_retry_policy=retry_policy(),
)
carprice_job = dg.define_asset_job(
    "carprice_job",
    selection=dg.AssetSelection.assets(carprice_model),
    description="carprice train, on demand (no schedule).",
    op_retry_policy=retry_policy(),
)


#: What a load-only run materialises: the members' load, both answers and the dbt models (with
#: their checks).
LOAD_ASSETS = [sales_members.key, top_members.key, top_items.key, *ANALYTICS_KEYS]

#: The dbt models alone (dbt build), on their schedule or from the UI.
analytics_job = dg.define_asset_job(
    "analytics_job",
    selection=dg.AssetSelection.assets(analytics_models),
    description="dbt build of the analytics layer (staging views, marts, dbt tests) as the role "
    "analytics_refresh; skipped when another refresh holds the database's refresh lock.",
    tags={"shopdata/job": "analytics"},
    op_retry_policy=retry_policy(),
)


def load_pending(instance: dg.DagsterInstance) -> bool:
    """Whether the last membership run's members may not be in the database: membership_runs
    was materialised after sales_members last was (the load failed, or the run was stopped)."""
    run = instance.get_latest_materialization_event(membership_runs.key)
    if run is None:
        return False
    load = instance.get_latest_materialization_event(sales_members.key)
    return load is None or load.timestamp < run.timestamp


def _membership_schedule() -> dg.ScheduleDefinition:
    m = resources.settings().members

    @dg.schedule(
        name="membership_hourly",
        job=membership_job,
        cron_schedule=cron_for(m.schedule_minute, m.schedule_interval_minutes),
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Backstop of the landing sensor: members.schedule_minute past every hour "
        "(members.schedule_interval_minutes). When no file is ready but the last run's load did "
        "not finish, it runs the load, both answers and the dbt models alone.",
    )
    def membership_hourly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        # A membership run that finds nothing ready skips everything downstream of it, so a load
        # that failed after its run committed would wait for the next landed file: redo it here.
        s = resources.settings()
        landing = s.members.landing_dir
        idle = not landing.is_dir() or not resources.ready_landing_files(s)
        if idle and load_pending(context.instance):
            return dg.RunRequest(asset_selection=LOAD_ASSETS, tags={"shopdata/trigger": "load"})
        return dg.RunRequest()

    return membership_hourly


def _covid_schedule() -> dg.ScheduleDefinition:
    s = resources.settings()
    return dg.ScheduleDefinition(
        name="covid_daily",
        job=covid_job,
        cron_schedule=s.orchestration.covid_cron,
        execution_timezone="UTC",
        # Without a live API there is nothing to fetch: the schedule starts stopped.
        default_status=dg.DefaultScheduleStatus.RUNNING
        if s.covid.api_base_url
        else dg.DefaultScheduleStatus.STOPPED,
        description="covid fetch once a day (orchestration.covid_cron).",
    )


def _analytics_schedule() -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="analytics_hourly",
        job=analytics_job,
        cron_schedule=resources.settings().orchestration.analytics_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="dbt build of the analytics layer (orchestration.analytics_cron): the "
        "checkout's purchases reach the marts between membership loads. A refresh that finds "
        "another under way is skipped, not failed.",
    )


def _analytics_full_refresh_schedule() -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="analytics_weekly_full_refresh",
        job=analytics_job,
        cron_schedule=resources.settings().orchestration.analytics_full_refresh_cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        run_config={"ops": {analytics_models.op.name: {"config": {"full_refresh": True}}}},
        description="dbt build --full-refresh of the analytics layer "
        "(orchestration.analytics_full_refresh_cron): repairs what the incremental marts cannot "
        "see, such as a back-dated load with lower transaction ids (docs/analytics.md).",
    )


#: The run tag naming the set of ready files a sensor's run was asked for.
LANDING_KEY_TAG = "shopdata/landing_key"


@dg.sensor(
    job=membership_job,
    minimum_interval_seconds=resources.settings().orchestration.sensor_interval_s,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Asks for a membership run when files are ready in the landing folder (settled, "
    "not hidden, not in flight): one run per set of ready files, asked again when a run for them "
    "was skipped (lock busy) and left them there.",
)
def landing_sensor(context: SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    s = resources.settings()
    landing = s.members.landing_dir
    if not landing.is_dir():
        return dg.SkipReason(f"landing folder {landing} does not exist")
    ready = resources.ready_landing_files(s)
    if not ready:
        return dg.SkipReason(f"no file ready in {landing}")
    key = landing_run_key(ready)
    earlier = context.instance.get_runs(filters=dg.RunsFilter(tags={LANDING_KEY_TAG: key}))
    if any(not run.is_finished for run in earlier):
        return dg.SkipReason(f"a run for the {len(ready)} ready file(s) is under way")
    if earlier and earlier[0].status != dg.DagsterRunStatus.SUCCESS:
        # Asking again every tick would repeat the failure: the hourly backstop tries again.
        return dg.SkipReason(
            f"the last run for the {len(ready)} ready file(s) ended {earlier[0].status.value}; "
            "the hourly backstop tries again"
        )
    # A run that succeeded and left these very files was skipped (another run held the lock and
    # had already scanned), or left a file that changed while read: ask again, under a new key.
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=key if not earlier else f"{key}-{len(earlier)}",
                tags={
                    "shopdata/trigger": "landing",
                    "shopdata/files": str(len(ready)),
                    LANDING_KEY_TAG: key,
                },
            )
        ]
    )


JOBS = [membership_job, analytics_job, covid_job, carprice_job]
SCHEDULES = [
    _membership_schedule(),
    _analytics_schedule(),
    _analytics_full_refresh_schedule(),
    _covid_schedule(),
]
SENSORS = [landing_sensor]
