"""When the assets run and how they fail: a lock-busy run is skipped, the landing sensor asks for
one run per set of ready files, transient errors are retried with back-off and others are not,
the schedules read the members' settings.
"""

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest

from shopdata.config import get_settings
from shopdata.members.state import StateStore
from shopdata.orchestration import assets
from shopdata.orchestration.analytics import ANALYTICS_ASSETS, ANALYTICS_KEYS
from shopdata.orchestration.assets import ASSETS, covid_series, membership_runs
from shopdata.orchestration.automation import (
    SCHEDULES,
    landing_sensor,
    membership_job,
    retry_policy,
)
from shopdata.orchestration.checks import CHECKS

from .conftest import land_samples, settled


@pytest.fixture
def members_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """A landing and an output folder of this test's own (no database is reached)."""
    landing, output = tmp_path / "landing", tmp_path / "members"
    monkeypatch.setenv("SHOPDATA_MEMBERS__LANDING_DIR", str(landing))
    monkeypatch.setenv("SHOPDATA_MEMBERS__OUTPUT_DIR", str(output))
    monkeypatch.setenv("SHOPDATA_MEMBERS__SETTLE_SECONDS", "5")
    monkeypatch.setenv("SHOPDATA_DB__DBT_DIR", str(tmp_path / "dbt"))
    get_settings.cache_clear()
    yield landing, output
    get_settings.cache_clear()


def run_job(
    job: Any,
    instance: dg.DagsterInstance | None = None,
    tags: Any = None,
    selection: list[dg.AssetKey] | None = None,
) -> dg.ExecuteInProcessResult:
    defs = dg.Definitions(assets=[*ASSETS, *ANALYTICS_ASSETS], asset_checks=CHECKS, jobs=[job])
    return defs.resolve_job_def(job.name).execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        tags=tags,
        asset_selection=selection,
    )


def test_a_lock_busy_run_is_skipped_not_failed(members_env: tuple[Path, Path]) -> None:
    landing, output = members_env
    land_samples(landing, malformed=False)
    output.mkdir()
    instance = dg.DagsterInstance.ephemeral()
    with StateStore(output).lock():  # another membership run is at work
        result = run_job(membership_job, instance)
    assert result.success
    assert result.asset_materializations_for_node("membership_runs") == []
    skipped = {
        e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_SKIPPED
    }
    assert skipped == {
        "sales_members",
        "top_members",
        "top_items",
        "membership_runs_no_quarantined_files",
        "membership_runs_successful_share_in_band",
        "top_members_summaries_match_base_tables",
        "top_items_summaries_match_base_tables",
        "analytics_models",  # the dbt step is below the load: skipped with it
    }
    warnings = [
        r.user_message for r in instance.all_logs(result.run_id) if r.level == logging.WARNING
    ]
    assert warnings == [
        f"skipped: another run holds the lock on {output / '_state'}; "
        "the run holding the lock does the work"
    ]
    assert sorted(p.name for p in landing.iterdir()) == [
        "applications_dataset_1.csv",
        "applications_dataset_2.csv",
    ]


def test_an_error_after_the_run_committed_fails_without_a_retry(
    members_env: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry would find the landing folder empty and succeed with nothing: the committed run's
    members would never be loaded and the run would show green (seen with a report the metadata
    could not read). Such an error fails the step at once, naming the committed run."""
    landing, output = members_env
    land_samples(landing, malformed=False)

    def unreadable(document: Any) -> dict[str, Any]:
        raise KeyError("totals")

    monkeypatch.setattr(assets, "members_metadata", unreadable)  # fault injection
    result = run_job(membership_job)
    assert not result.success
    assert events(result, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []
    [failure] = events(result, dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_key == "membership_runs"
    [committed] = (output / "committed").iterdir()
    run_id = committed.stem
    assert failure.step_failure_data.user_failure_data.description == (
        f"run {run_id} committed, but its report could not be turned into metadata: "
        "KeyError: 'totals'"
    )
    assert list(landing.iterdir()) == []  # the run took the files: only a new run brings more


def test_a_failed_load_is_redone_by_the_hourly_backstop(
    members_env: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    pg_server: Any,
    sales_template: str,
) -> None:
    """A load that failed after its run committed: the next membership run finds nothing ready and
    skips everything below it, so the members would wait for the next landed file. The hourly
    backstop sees the load pending and runs the load, both answers and the dbt models alone."""
    landing, _ = members_env
    land_samples(landing, malformed=False)
    name = pg_server.unique_name("orchestration_backstop")
    url = pg_server.create_database(name, template=sales_template)
    hourly = {s.name: s for s in SCHEDULES}["membership_hourly"]
    with dg.instance_for_test() as instance:
        try:
            backstop(instance, hourly, monkeypatch, url, name)
        finally:
            get_settings.cache_clear()
            pg_server.drop_database(name)


def backstop(  # the body of the test above
    instance: dg.DagsterInstance,
    hourly: dg.ScheduleDefinition,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    name: str,
) -> None:
    missing = psycopg.conninfo.make_conninfo(url, dbname=f"{name}_missing")
    monkeypatch.setenv("DATABASE_URL", missing)
    get_settings.cache_clear()
    first = run_job(membership_job, instance)  # the database is not there: the load fails
    assert not first.success
    [failure] = events(first, dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_key == "sales_members"
    assert len(first.asset_materializations_for_node("membership_runs")) == 1

    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    with dg.build_schedule_context(instance=instance) as context:
        request = hourly.evaluate_tick(context).run_requests[0]
    assert request.asset_selection == [
        dg.AssetKey("sales_members"),
        dg.AssetKey("top_members"),
        dg.AssetKey("top_items"),
        *ANALYTICS_KEYS,
    ]
    assert dg.AssetKey(["marts", "fct_purchases"]) in request.asset_selection
    defs = dg.Definitions(
        assets=[*ASSETS, *ANALYTICS_ASSETS], asset_checks=CHECKS, jobs=[membership_job]
    )
    load = defs.resolve_job_def("membership_job").execute_in_process(
        instance=instance, asset_selection=request.asset_selection, raise_on_error=False
    )
    assert load.success
    [loaded] = load.asset_materializations_for_node("sales_members")
    assert loaded.metadata["new"] == dg.IntMetadataValue(706)
    assert {e.step_key for e in events(load, dg.DagsterEventType.STEP_SUCCESS)} >= {
        "sales_members",
        "top_members",
        "top_items",
        "top_members_summaries_match_base_tables",
        "top_items_summaries_match_base_tables",
        "analytics_models",
    }
    with psycopg.connect(url) as conn:  # the dbt models were built from the loaded members
        assert conn.execute(b"select count(*) from marts.dim_members").fetchone() == (706,)

    with dg.build_schedule_context(instance=instance) as context:
        again = hourly.evaluate_tick(context).run_requests[0]
    assert again.asset_selection is None  # nothing pending: the whole job, as usual


def test_sensor_asks_for_one_run_per_set_of_ready_files(members_env: tuple[Path, Path]) -> None:
    landing, _ = members_env
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())
    gone = landing_sensor(context)
    assert isinstance(gone, dg.SkipReason)
    assert gone.skip_message == f"landing folder {landing} does not exist"

    landing.mkdir()
    (landing / "upload.csv.part").write_text("in flight")  # a producer still writing
    settled(landing / "upload.csv.part")
    (landing / ".hidden.csv").write_text("hidden")
    (landing / "fresh.csv").write_text("name\n")  # modified just now: within the settle window
    empty = landing_sensor(context)
    assert isinstance(empty, dg.SkipReason)
    assert empty.skip_message == f"no file ready in {landing}"

    settled(landing / "fresh.csv")
    first = landing_sensor(context)
    again = landing_sensor(context)
    assert isinstance(first, dg.SensorResult) and isinstance(again, dg.SensorResult)
    [request] = first.run_requests or []
    [same] = again.run_requests or []
    assert request.run_key == same.run_key  # Dagster runs a key once: no second run per tick
    assert request.tags == {
        "shopdata/trigger": "landing",
        "shopdata/files": "1",
        "shopdata/landing_key": request.run_key,
    }

    (landing / "more.csv").write_text("name\n")
    settled(landing / "more.csv")
    later = landing_sensor(context)
    assert isinstance(later, dg.SensorResult)
    [other] = later.run_requests or []
    assert other.run_key != request.run_key
    assert other.tags["shopdata/files"] == "2"


def test_files_left_by_a_lock_busy_run_are_asked_for_again(
    members_env: tuple[Path, Path],
) -> None:
    """The run holding the lock had scanned before these files landed: the skipped run leaves them
    in the landing folder, and the sensor, which asks once per set of files, must ask again rather
    than leave them to the hourly backstop."""
    landing, output = members_env
    land_samples(landing, malformed=False)
    output.mkdir()
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance)
        first = landing_sensor(context)
        assert isinstance(first, dg.SensorResult)
        [request] = first.run_requests or []
        with StateStore(output).lock():  # another run is at work
            skipped = run_job(membership_job, instance, tags=request.tags)
        assert skipped.success
        assert skipped.asset_materializations_for_node("membership_runs") == []

        second = landing_sensor(context)
        assert isinstance(second, dg.SensorResult)
        [retry] = second.run_requests or []
        assert retry.run_key == f"{request.run_key}-1"
        assert retry.tags["shopdata/landing_key"] == request.run_key
        # The run alone, not the load: this test has no database of its own.
        done = run_job(membership_job, instance, tags=retry.tags, selection=[membership_runs.key])
        assert len(done.asset_materializations_for_node("membership_runs")) == 1
        assert list(landing.iterdir()) == []

        gone = landing_sensor(context)
        assert isinstance(gone, dg.SkipReason)
        assert gone.skip_message == f"no file ready in {landing}"


def test_files_whose_run_failed_are_left_to_the_backstop(members_env: tuple[Path, Path]) -> None:
    landing, output = members_env
    land_samples(landing, malformed=False)
    output.write_text("not a folder")  # every run fails the same way: no run per tick
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance)
        first = landing_sensor(context)
        assert isinstance(first, dg.SensorResult)
        [request] = first.run_requests or []
        failed = run_job(membership_job, instance, tags=request.tags)
        assert not failed.success
        again = landing_sensor(context)
        assert isinstance(again, dg.SkipReason)
        assert again.skip_message == (
            "the last run for the 2 ready file(s) ended FAILURE; the hourly backstop tries again"
        )


@pytest.fixture
def failing_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A real server on 127.0.0.1 whose COVID route answers 503 every time."""
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv(
        "SHOPDATA_COVID__API_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}"
    )
    monkeypatch.setenv("SHOPDATA_COVID__MAX_RETRIES", "0")
    monkeypatch.setenv("SHOPDATA_COVID__CACHE_DIR", str(tmp_path / "covid"))
    get_settings.cache_clear()
    try:
        yield requests
    finally:
        get_settings.cache_clear()
        server.shutdown()
        server.server_close()


def covid_job_with(retries: int) -> Any:
    return dg.define_asset_job(
        "covid_retry_test",
        selection=dg.AssetSelection.assets(covid_series),
        op_retry_policy=dg.RetryPolicy(
            max_retries=retries, delay=0.01, backoff=dg.Backoff.EXPONENTIAL
        ),
    )


def events(result: dg.ExecuteInProcessResult, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type == kind]


def test_a_transient_error_is_retried(failing_api: list[str], tmp_path: Path) -> None:
    result = run_job(covid_job_with(2))
    assert not result.success
    assert len(events(result, dg.DagsterEventType.STEP_UP_FOR_RETRY)) == 2
    assert len(failing_api) == 3  # the first attempt and two retries
    assert not (tmp_path / "covid").exists()  # a failed fetch writes no cache


def test_a_permanent_error_fails_at_once_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHOPDATA_COVID__API_BASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = run_job(covid_job_with(2))
    finally:
        get_settings.cache_clear()
    assert not result.success
    assert events(result, dg.DagsterEventType.STEP_UP_FOR_RETRY) == []
    [failure] = events(result, dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_failure_data.user_failure_data.description == (
        "ValueError: no live API configured: set SHOPDATA_COVID__API_BASE_URL"
    )


def test_jobs_retry_with_exponential_back_off_from_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPDATA_ORCHESTRATION__MAX_RETRIES", "5")
    monkeypatch.setenv("SHOPDATA_ORCHESTRATION__RETRY_DELAY_S", "2.5")
    get_settings.cache_clear()
    try:
        policy = retry_policy()
    finally:
        get_settings.cache_clear()
    assert (policy.max_retries, policy.delay, policy.backoff) == (5, 2.5, dg.Backoff.EXPONENTIAL)
    assert membership_job.op_retry_policy == dg.RetryPolicy(
        max_retries=3, delay=10.0, backoff=dg.Backoff.EXPONENTIAL
    )


def test_schedules() -> None:
    by_name = {s.name: s for s in SCHEDULES}
    hourly = by_name["membership_hourly"]
    assert (hourly.cron_schedule, hourly.execution_timezone, hourly.job_name) == (
        "0 * * * *",
        "UTC",
        "membership_job",
    )
    assert hourly.default_status == dg.DefaultScheduleStatus.RUNNING
    analytics = by_name["analytics_hourly"]
    assert (analytics.cron_schedule, analytics.job_name, analytics.default_status) == (
        "30 * * * *",
        "analytics_job",
        dg.DefaultScheduleStatus.RUNNING,
    )
    daily = by_name["covid_daily"]
    assert (daily.cron_schedule, daily.job_name) == ("15 6 * * *", "covid_job")
    assert membership_runs.key == dg.AssetKey("membership_runs")


def api_record(day: int, cases: int) -> dict[str, Any]:
    return {
        "Country": "Singapore",
        "CountryCode": "SG",
        "Province": "",
        "City": "",
        "CityCode": "",
        "Lat": "1.35",
        "Lon": "103.82",
        "Cases": cases,
        "Status": "confirmed",
        "Date": f"2020-03-{day:02d}T00:00:00Z",
    }


def test_a_tenfold_jump_fails_the_covid_check_as_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real server serving a series whose last day is a 10x typo: cached as served, flagged."""
    body = json.dumps(
        [api_record(day, 2000 + 10 * day) for day in range(1, 10)] + [api_record(10, 21_000)]
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    monkeypatch.setenv(
        "SHOPDATA_COVID__API_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}"
    )
    monkeypatch.setenv("SHOPDATA_COVID__CACHE_DIR", str(tmp_path / "covid"))
    get_settings.cache_clear()
    try:
        result = dg.materialize(
            [*ASSETS, *CHECKS],
            selection=dg.AssetSelection.assets(covid_series),
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    finally:
        get_settings.cache_clear()
        server.shutdown()
        server.server_close()
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed, evaluation.severity) == (
        "no_suspect_counts",
        False,
        dg.AssetCheckSeverity.WARN,
    )
    assert evaluation.description == (
        "0 suspect count(s) taken back, 1 implausible jump(s): jump: 2020-03-10: cumulative "
        "2,090 -> 21,000 in one day (10.0x, not taken back)"
    )
    assert (tmp_path / "covid" / "singapore_confirmed.json").is_file()
