"""What the running dashboard shows, and the background thread that keeps it fresh.

The page must never wait for the live API: the dashboard starts on the cache or the bundled
snapshot at once, and a daemon thread fetches live data with one overall deadline
(``covid.deadline_s``), then again every ``covid.refresh_s``. Each answer (or failure) replaces
the shown state in one assignment, so a request always sees a consistent series, analysis and
reason; open pages poll the version and redraw when it changes.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from shopdata.covid.cache import CachedSeries
from shopdata.covid.sources import LoadedSeries, cache_note, fallback, stamp
from shopdata.covid.transform import Analysis, analyse

if TYPE_CHECKING:
    from shopdata.covid.client import CovidApiClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Shown:
    """One consistent state of the page's data."""

    loaded: LoadedSeries
    analysis: Analysis
    version: int


def age_text(fetched_at: dt.datetime | None, now: dt.datetime) -> str:
    """``"fetched 5 min ago (2026-11-29 15:02 UTC)"``; empty for the bundled snapshot."""
    if fetched_at is None:
        return ""
    seconds = max(0, int((now - fetched_at).total_seconds()))
    if seconds < 60:
        ago = "just now"
    elif seconds < 3600:
        ago = f"{seconds // 60} min ago"
    elif seconds < 2 * 86400:
        ago = f"{seconds // 3600} h ago"
    else:
        ago = f"{seconds // 86400} days ago"
    return f"fetched {ago} ({stamp(fetched_at)})"


class LiveData:
    """The shown state plus, when a live API is configured, the thread that refreshes it."""

    def __init__(self, initial: LoadedSeries, pause_min_daily_mean: float) -> None:
        self._pause_min = pause_min_daily_mean
        self._shown = Shown(initial, analyse(initial.days, pause_min_daily_mean), 1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.fetches = 0
        """Finished background fetches (answers and failures)."""

    def current(self) -> Shown:
        """The state to render now."""
        return self._shown

    def _publish(self, loaded: LoadedSeries, days_changed: bool) -> None:
        with self._lock:
            analysis = (
                analyse(loaded.days, self._pause_min) if days_changed else self._shown.analysis
            )
            self._shown = Shown(loaded, analysis, self._shown.version + 1)

    def refresh_once(
        self,
        client: CovidApiClient,
        country: str,
        cache_file: Path,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        """Fetch live data once (within the client's deadline) and publish the outcome."""
        from shopdata.covid.client import ApiError

        try:
            result = client.fetch_confirmed(country)
        except ApiError as exc:
            shown = self._shown.loaded
            if shown.kind == "live":
                loaded = replace(
                    shown,
                    reason=f"{shown.reason.split('; ')[0]}; the refresh at {stamp(now())} "
                    f"failed: {exc}",
                )
                self._publish(loaded, days_changed=False)
            else:
                loaded = fallback(f"the live API failed: {exc}", cache_file, api_configured=True)
                self._publish(loaded, days_changed=loaded.days != shown.days)
        else:
            fetched = now()
            loaded = LoadedSeries(
                "live",
                f"live API {result.url}",
                f"answered at {stamp(fetched)}"
                + cache_note(cache_file, CachedSeries(result.url, fetched, result.days)),
                result.days,
                fetched,
            )
            self._publish(loaded, days_changed=True)
        finally:
            self.fetches += 1

    def start(
        self,
        make_client: Callable[[], CovidApiClient],
        country: str,
        cache_file: Path,
        refresh_s: float,
    ) -> threading.Thread:
        """Fetch now in a daemon thread, then every ``refresh_s`` seconds (0: only once).

        ``make_client`` runs in the thread too: importing httpx (~0.2 s) stays off the path
        to the first page.
        """

        def run() -> None:
            client = make_client()
            while not self._stop.is_set():
                try:
                    self.refresh_once(client, country, cache_file)
                except Exception:  # a bug must not kill the page's data thread silently
                    log.exception("background fetch of live COVID data failed")
                if refresh_s <= 0 or self._stop.wait(refresh_s):
                    return

        self._thread = threading.Thread(target=run, name="covid-refresh", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        """Ask the thread to end after its current fetch."""
        self._stop.set()
