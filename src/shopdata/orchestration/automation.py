"""When the assets run: a sensor on the landing folder plus an hourly backstop for the
membership runs (the database load and both answers follow in the same run), the COVID cache
daily, the model on demand.
"""

import dagster as dg
from dagster import SensorEvaluationContext

from shopdata.orchestration import resources
from shopdata.orchestration.assets import carprice_model, covid_series, membership_runs
from shopdata.orchestration.rules import cron_for, landing_run_key


def retry_policy() -> dg.RetryPolicy:
    """Every step of the jobs: retries with exponential back-off, from the settings.

    Only transient errors are retried: an asset turns any other into a final ``Failure``.
    """
    o = resources.settings().orchestration
    return dg.RetryPolicy(
        max_retries=o.max_retries, delay=o.retry_delay_s, backoff=dg.Backoff.EXPONENTIAL
    )


#: membership run -> sales.members -> both analyst answers, with their checks.
membership_job = dg.define_asset_job(
    "membership_job",
    selection=dg.AssetSelection.assets(membership_runs).downstream(),
    description="A membership run, then the load into the sales database and both answers.",
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


def _membership_schedule() -> dg.ScheduleDefinition:
    m = resources.settings().members
    return dg.ScheduleDefinition(
        name="membership_hourly",
        job=membership_job,
        cron_schedule=cron_for(m.schedule_minute, m.schedule_interval_minutes),
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Backstop of the landing sensor: members.schedule_minute past every hour "
        "(members.schedule_interval_minutes).",
    )


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


@dg.sensor(
    job=membership_job,
    minimum_interval_seconds=resources.settings().orchestration.sensor_interval_s,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Asks for a membership run when files are ready in the landing folder (settled, "
    "not hidden, not in flight): one run per set of ready files.",
)
def landing_sensor(context: SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    s = resources.settings()
    landing = s.members.landing_dir
    if not landing.is_dir():
        return dg.SkipReason(f"landing folder {landing} does not exist")
    ready = resources.ready_landing_files(s)
    if not ready:
        return dg.SkipReason(f"no file ready in {landing}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=landing_run_key(ready),
                tags={"shopdata/trigger": "landing", "shopdata/files": str(len(ready))},
            )
        ]
    )


JOBS = [membership_job, covid_job, carprice_job]
SCHEDULES = [_membership_schedule(), _covid_schedule()]
SENSORS = [landing_sensor]
