"""`shopdata covid` commands: serve the dashboard, refresh the cache, print the series summary."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from shopdata.errors import EXIT_SUSPECT, EXIT_USAGE, fail

if TYPE_CHECKING:
    from shopdata.covid.client import CovidApiClient

app = typer.Typer(
    help="COVID-19 Singapore dashboard: fetch data and serve the chart.", no_args_is_help=True
)


def _check_port(host: str, port: int) -> None:
    """Fail early with one line instead of Werkzeug's traceback when the port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # Like the server itself: a port in TIME_WAIT after a restart is fine, a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


@app.command()
def dashboard(
    host: str | None = typer.Option(None, help="Address to bind (setting covid.host)."),
    port: int | None = typer.Option(
        None, min=1, max=65535, help="Port (setting covid.port, 8050)."
    ),
    api_base_url: str | None = typer.Option(
        None, help="Live API base URL (setting covid.api_base_url; unset = offline)."
    ),
    cache_dir: Path | None = typer.Option(None, help="Cache folder (setting covid.cache_dir)."),
    offline: bool = typer.Option(False, "--offline", help="Do not call the live API."),
) -> None:
    """Serve the dashboard (live API if configured and answering, else cache, else snapshot)."""
    from shopdata.config import get_settings

    settings = get_settings().covid
    bind_host = host or settings.host
    bind_port = port or settings.port
    _check_port(bind_host, bind_port)

    from shopdata.covid.app import create_app
    from shopdata.covid.cache import cache_path
    from shopdata.covid.live import LiveData
    from shopdata.covid.sources import fallback

    base_url = None if offline else (api_base_url or settings.api_base_url)
    cache_file = cache_path(cache_dir or settings.cache_dir)
    if offline:
        why = "started with --offline"
    elif base_url:
        why = (
            f"the live API has not answered yet (fetching in the background, deadline "
            f"{settings.deadline_s:g} s)"
        )
    else:
        why = "no live API configured (SHOPDATA_COVID__API_BASE_URL is unset)"
    # Serve the cache or the snapshot at once; live data arrives in the background.
    live = LiveData(
        fallback(why, cache_file, api_configured=bool(base_url)), settings.pause_min_daily_mean
    )
    dash_app = create_app(live, settings.page_poll_s)
    loaded, analysis = live.current().loaded, live.current().analysis
    typer.echo(f"Source: {loaded.label}; why: {loaded.reason}")
    typer.echo(f"Data: {analysis.first_date} to {analysis.last_date}, {len(analysis.days):,} days")
    if base_url:
        api_url = base_url

        def make_client() -> CovidApiClient:
            from shopdata.covid.client import CovidApiClient

            return CovidApiClient(
                api_url,
                timeout_s=settings.timeout_s,
                max_retries=settings.max_retries,
                backoff_s=settings.backoff_s,
                deadline_s=settings.deadline_s,
            )

        every = f"every {settings.refresh_s:g} s" if settings.refresh_s > 0 else "once"
        typer.echo(
            f"Fetching live data from {base_url} in the background {every} "
            f"(deadline {settings.deadline_s:g} s each)"
        )
        live.start(make_client, settings.country, cache_file, settings.refresh_s)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    dash_app.run(host=bind_host, port=bind_port, debug=False)


@app.command()
def fetch(
    api_base_url: str | None = typer.Option(
        None, help="Live API base URL (setting covid.api_base_url)."
    ),
    cache_dir: Path | None = typer.Option(None, help="Cache folder (setting covid.cache_dir)."),
) -> None:
    """Refresh the local cache from the live API and report what changed.

    Exit codes: 0 fetched; 1 the API failed within the deadline (cache unchanged); 2 usage;
    3 fetched and cached, but some counts look wrong (served, then taken back by the source).
    """
    from shopdata.config import get_settings

    settings = get_settings().covid
    base_url = api_base_url or settings.api_base_url
    if not base_url:
        fail(
            "no live API configured: set SHOPDATA_COVID__API_BASE_URL or pass --api-base-url",
            EXIT_USAGE,
        )
    if not base_url.startswith(("http://", "https://")):
        fail(f"--api-base-url must start with http:// or https://, got {base_url!r}", EXIT_USAGE)

    from shopdata.covid.cache import CachedSeries, cache_path, read_cache, write_cache
    from shopdata.covid.client import ApiError, CovidApiClient
    from shopdata.covid.schema import MalformedDataError
    from shopdata.covid.snapshot import load_snapshot
    from shopdata.covid.sources import compare, describe_diff
    from shopdata.covid.transform import analyse

    path = cache_path(cache_dir or settings.cache_dir)
    client = CovidApiClient(
        base_url,
        timeout_s=settings.timeout_s,
        max_retries=settings.max_retries,
        backoff_s=settings.backoff_s,
        deadline_s=settings.deadline_s,
    )
    try:
        result = client.fetch_confirmed(settings.country)
    except ApiError as exc:
        fail(f"{exc}; the cache was not changed")
    try:
        previous = read_cache(path)
    except MalformedDataError:
        previous = None
    if previous is not None:
        baseline, old_days = (
            f"the cache fetched at {previous.fetched_at:%Y-%m-%d %H:%M UTC}",
            (previous.days),
        )
    else:
        baseline, old_days = "the bundled snapshot", load_snapshot()
    try:
        write_cache(path, CachedSeries(result.url, dt.datetime.now(dt.UTC), result.days))
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}; the cache was not changed")
    first, last = result.days[0], result.days[-1]
    retried = f" after retrying {', '.join(result.retries)}" if result.retries else ""
    typer.echo(
        f"Fetched {len(result.days):,} days ({first.date} to {last.date}, last cumulative "
        f"{last.cumulative:,}) from {result.url} in {result.attempts} attempt(s){retried}."
    )
    typer.echo(describe_diff(compare(old_days, result.days), baseline))
    typer.echo(f"Wrote {path}")
    analysis = analyse(result.days, settings.pause_min_daily_mean)
    anomalies, jumps = analysis.anomalies, analysis.jumps
    for anomaly in anomalies:
        typer.echo(f"Suspect: {anomaly.describe()}")
    for jump in jumps:
        typer.echo(f"Suspect: {jump.describe()}")
    if anomalies or jumps:
        found = [
            *(
                [f"{len(anomalies)} suspect count(s) that the source took back"]
                if anomalies
                else []
            ),
            *([f"{len(jumps)} implausible jump(s) not taken back"] if jumps else []),
        ]
        fail(
            f"{' and '.join(found)} (listed above); "
            "cached as served, flagged on the page and in `covid summary`",
            EXIT_SUSPECT,
        )


@app.command()
def summary(
    cache_dir: Path | None = typer.Option(None, help="Cache folder (setting covid.cache_dir)."),
) -> None:
    """Print the offline series (cache, else snapshot) with its pauses and corrections."""
    from shopdata.config import get_settings
    from shopdata.covid.cache import cache_path
    from shopdata.covid.sources import load_series
    from shopdata.covid.transform import analyse

    settings = get_settings().covid
    why = (
        "`covid summary` reads only the local cache, never the live API (run `covid fetch` "
        "to refresh it)"
        if settings.api_base_url
        else None
    )
    loaded = load_series(
        None, settings.country, cache_path(cache_dir or settings.cache_dir), offline_reason=why
    )
    analysis = analyse(loaded.days, settings.pause_min_daily_mean)
    last = analysis.days[-1]
    typer.echo(f"Source: {loaded.label}; why: {loaded.reason}")
    typer.echo(
        f"Days: {len(analysis.days):,}, {analysis.first_date} to {analysis.last_date}; "
        f"last cumulative {last.cumulative:,}"
    )
    caught_up = [p for p in analysis.pauses if p.caught_up]
    unreported = sum(p.days for p in analysis.pauses if not p.caught_up)
    typer.echo(
        f"Reporting pauses: {len(caught_up)} (catch-ups spread over "
        f"{sum(p.days for p in caught_up)} days); days not reported yet: {unreported}; "
        f"downward corrections: {len(analysis.corrections)}; "
        f"suspect counts taken back: {len(analysis.anomalies)}; "
        f"missing days filled: {len(analysis.filled_dates)}"
        + (f"; implausible jumps not taken back: {len(analysis.jumps)}" if analysis.jumps else "")
    )
    for pause in analysis.pauses:
        if pause.caught_up:
            typer.echo(
                f"  pause {pause.first_day}..{pause.last_day}: {pause.catch_up_cases:,} cases "
                f"spread over {pause.days} days ({pause.per_day:,.1f} a day)"
            )
        else:
            span = (
                f"{pause.first_day}"
                if pause.days == 1
                else f"{pause.first_day}..{pause.last_day} ({pause.days} days)"
            )
            typer.echo(f"  not reported yet: {span}")
    for correction in analysis.corrections:
        typer.echo(f"  correction {correction.date}: {correction.change:,}")
    for anomaly in analysis.anomalies:
        typer.echo(f"  suspect {anomaly.describe()}")
    for jump in analysis.jumps:
        typer.echo(f"  implausible {jump.describe()}")
