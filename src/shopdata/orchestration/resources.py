"""The one module of the orchestration that calls the other components.

Each function is wiring only: it reads the settings (the same object the CLI reads), calls a
component's Python API and returns plain values for the assets to turn into metadata. Module
renames in the components touch this file and nothing else of the orchestration.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from shopdata.analytics.dbt import (
    PROJECT_DIR,
    DbtError,
    RefreshBusy,
    dbt_executable,
    dbt_session,
    failures,
    manifest_path,
)
from shopdata.carprice.data import load_car_data
from shopdata.carprice.families import MODEL_NAMES
from shopdata.carprice.persist import METRICS_FILE
from shopdata.carprice.train import train
from shopdata.config import Settings, get_settings
from shopdata.covid.cache import CachedSeries, cache_path, read_cache, write_cache
from shopdata.covid.client import ApiError, CovidApiClient
from shopdata.covid.transform import analyse
from shopdata.members.landing import scan
from shopdata.members.pipeline import RuleConfig, RunOptions, RunReport, run_pipeline
from shopdata.members.report import RunDocument
from shopdata.members.state import LockBusy
from shopdata.salesdb.members_loader import MembersReport
from shopdata.salesdb.members_loader import load_members as _load_members
from shopdata.salesdb.queries import QueryResult, run_analyst_query, run_sql_file
from shopdata.salesdb.runtime import bring_up, target

__all__ = [
    "ApiError",
    "CovidRefresh",
    "DbtError",
    "LockBusy",
    "MembersReport",
    "QueryResult",
    "RefreshBusy",
    "RunDocument",
    "RunReport",
    "analyst_answer",
    "covid_flags",
    "database_url",
    "dbt_build",
    "dbt_manifest",
    "load_members",
    "model_metrics",
    "ready_landing_files",
    "refresh_covid",
    "run_members",
    "settings",
    "summary_differences",
    "train_model",
]


def settings() -> Settings:
    """The process-wide settings, as the CLI reads them."""
    return get_settings()


def ready_landing_files(s: Settings) -> list[tuple[str, int, int]]:
    """(name, size, mtime_ns) of each file a run would take now, per the producer contract."""
    landing = s.members.landing_dir
    entries = scan(landing, settle_seconds=s.members.settle_seconds)
    ready = []
    for entry in entries:
        info = (landing / entry.name).lstat()
        ready.append((entry.name, info.st_size, info.st_mtime_ns))
    return ready


def run_members(s: Settings) -> RunReport:
    """One membership run with the CLI's rules and options. Raises :class:`LockBusy`."""
    m = s.members
    rules = RuleConfig(
        reference_date=m.reference_date,
        minimum_age=m.minimum_age,
        email_suffixes=m.email_domain_suffixes,
    )
    options = RunOptions(
        settle_seconds=m.settle_seconds,
        archive_watch_seconds=m.archive_watch_seconds,
        file_mode=m.file_mode,
        dir_mode=m.dir_mode,
        batch_rows=m.batch_rows,
        piece_bytes=m.read_piece_bytes,
    )
    m.output_dir.mkdir(parents=True, exist_ok=True)
    return run_pipeline(m.landing_dir, m.output_dir, rules, options=options)


def database_url(s: Settings) -> str:
    """The sales database's URL, the embedded server started (and the schema made) if needed."""
    return bring_up(target(s.database_url, s.db)).url


def load_members(url: str, s: Settings) -> MembersReport:
    """``db load-members``: every committed run's successful members (idempotent)."""
    return _load_members(url, s.members.output_dir)


def dbt_manifest() -> Path:
    """The dbt project's manifest (``dbt parse`` under ``db.dbt_dir`` when stale)."""
    return manifest_path(get_settings().db.dbt_dir.resolve())


@contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` as ``env`` for the block: dagster-dbt starts dbt (and reads the profile
    in-process) with the process environment, not one it is given."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def dbt_build(context: Any, url: str, *, full_refresh: bool = False) -> Iterator[Any]:
    """``dbt build`` of the models ``context`` selected, as ``db refresh-analytics`` runs it (the
    same lock, environment, profiles.yml and role: :func:`shopdata.analytics.dbt.dbt_session`),
    streamed as Dagster events by dagster-dbt. Raises :class:`RefreshBusy` before anything when
    another refresh holds the lock, :class:`DbtError` naming the failed models and tests after.
    ``full_refresh`` rebuilds the incremental marts from scratch.
    """
    from dagster_dbt import DbtCliResource

    with dbt_session(url, wait=False) as env, _environ(env):
        dbt = DbtCliResource(
            project_dir=str(PROJECT_DIR),
            profiles_dir=str(PROJECT_DIR),
            dbt_executable=dbt_executable(),
        )
        # One refresh at a time per database (the lock): one target folder is enough.
        target = Path(env["DBT_TARGET_PATH"]).parent / "dagster"
        args = ["build", *(["--full-refresh"] if full_refresh else [])]
        invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
        yield from invocation.stream()
        if not invocation.is_successful():
            results_file = target / "run_results.json"
            if results_file.is_file():
                import json

                problem = failures(json.loads(results_file.read_text(encoding="utf-8")))
            else:
                problem = str(invocation.get_error() or "no run_results.json")
            raise DbtError(f"dbt build failed: {problem}")


def analyst_answer(url: str, name: str) -> QueryResult:
    """``db query NAME`` (``top-members`` or ``top-items``)."""
    return run_analyst_query(url, name)


def summary_differences(url: str) -> list[tuple[Any, ...]]:
    """``db check``: summary rows that differ from a recomputation from the base tables."""
    with psycopg.connect(url) as conn:
        return run_sql_file(conn, "salesdb/check_summaries.sql").rows


@dataclass(frozen=True)
class CovidRefresh:
    """What one ``covid fetch`` did."""

    url: str
    path: Path
    days: int
    first: dt.date
    last: dt.date
    last_cumulative: int
    attempts: int
    retries: tuple[str, ...]


def refresh_covid(s: Settings) -> CovidRefresh:
    """``covid fetch``: the live API into the cache. Raises :class:`ApiError` (cache unchanged)."""
    c = s.covid
    if not c.api_base_url:
        raise ValueError("no live API configured: set SHOPDATA_COVID__API_BASE_URL")
    client = CovidApiClient(
        c.api_base_url,
        timeout_s=c.timeout_s,
        max_retries=c.max_retries,
        backoff_s=c.backoff_s,
        deadline_s=c.deadline_s,
    )
    result = client.fetch_confirmed(c.country)
    path = cache_path(c.cache_dir)
    write_cache(path, CachedSeries(result.url, dt.datetime.now(dt.UTC), result.days))
    return CovidRefresh(
        url=result.url,
        path=path,
        days=len(result.days),
        first=result.days[0].date,
        last=result.days[-1].date,
        last_cumulative=result.days[-1].cumulative,
        attempts=result.attempts,
        retries=result.retries,
    )


def covid_flags(s: Settings) -> tuple[list[str], list[str]] | None:
    """The cached series' anomalies and jumps, one line each (None: nothing cached)."""
    cached = read_cache(cache_path(s.covid.cache_dir))
    if cached is None:
        return None
    analysis = analyse(cached.days, s.covid.pause_min_daily_mean)
    return [a.describe() for a in analysis.anomalies], [j.describe() for j in analysis.jumps]


def train_model(s: Settings) -> dict[str, Any]:
    """``carprice train`` on the bundled data with the settings' seed, folds and repeats."""
    c = s.carprice
    c.model_dir.mkdir(parents=True, exist_ok=True)
    names = s.orchestration.carprice_models
    kwargs: dict[str, Any] = {}
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown:
        raise ValueError(
            f"orchestration.carprice_models: unknown model {unknown[0]!r}, expected one of: "
            + ", ".join(MODEL_NAMES)
        )
    if names:
        kwargs["names"] = [n for n in MODEL_NAMES if n in {"majority", *names}]
    result = train(load_car_data(), c.model_dir, c.seed, c.folds, c.repeats, c.jobs, **kwargs)
    return result.metrics.model_dump(mode="json", by_alias=True)


def model_metrics(s: Settings) -> dict[str, Any] | None:
    """The metrics ``carprice train`` last wrote (None: no model trained yet)."""
    import json

    path = s.carprice.model_dir / METRICS_FILE
    if not path.is_file():
        return None
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document
