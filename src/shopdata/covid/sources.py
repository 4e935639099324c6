"""Which data the dashboard shows, and why: live API, then the cache, then the snapshot.

The page always renders. Each fallback records a human-readable reason that the page shows next
to the source, so nobody mistakes a 2023 snapshot for today's numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from shopdata.covid.cache import CachedSeries, read_cache, write_cache
from shopdata.covid.schema import DayCount, MalformedDataError
from shopdata.covid.snapshot import SNAPSHOT_LABEL, load_snapshot

if TYPE_CHECKING:
    # httpx costs ~0.2 s of imports; an offline start (the default) never needs it.
    from shopdata.covid.client import CovidApiClient

SourceKind = Literal["live", "cache", "snapshot"]


@dataclass(frozen=True, slots=True)
class LoadedSeries:
    """A validated series plus what it is and why it was chosen."""

    kind: SourceKind
    label: str
    reason: str
    days: tuple[DayCount, ...]
    fetched_at: dt.datetime | None = None
    """When the live API delivered these days (live or cache); ``None`` for the snapshot."""


def stamp(moment: dt.datetime) -> str:
    """``2026-11-24 09:30 UTC``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def fallback(why: str, cache_file: Path, *, api_configured: bool) -> LoadedSeries:
    """The cache, else the bundled snapshot, with ``why`` the live API is not shown."""
    try:
        cached = read_cache(cache_file)
    except MalformedDataError as exc:
        why = f"{why}; the cache is unusable: {exc}"
        cached = None
    if cached is not None:
        return LoadedSeries(
            "cache",
            f"local cache of {cached.source_url}",
            f"{why}; showing the copy fetched at {stamp(cached.fetched_at)}",
            cached.days,
            cached.fetched_at,
        )
    if api_configured and not cache_file.exists():
        why = f"{why}; no cache yet"
    return LoadedSeries("snapshot", SNAPSHOT_LABEL, why, load_snapshot())


def load_series(
    client: CovidApiClient | None,
    country: str,
    cache_file: Path,
    now: dt.datetime | None = None,
    offline_reason: str | None = None,
) -> LoadedSeries:
    """Try the live API (when ``client`` is given), then the cache, then the bundled snapshot.

    A successful live answer also refreshes the cache, so the next offline start shows it.
    ``offline_reason`` replaces the default reason when ``client`` is ``None``.
    """
    if client is None:
        why = offline_reason or "no live API configured (SHOPDATA_COVID__API_BASE_URL is unset)"
        return fallback(why, cache_file, api_configured=False)
    from shopdata.covid.client import ApiError

    try:
        result = client.fetch_confirmed(country)
    except ApiError as exc:
        return fallback(f"the live API failed: {exc}", cache_file, api_configured=True)
    fetched = now or dt.datetime.now(dt.UTC)
    note = cache_note(cache_file, CachedSeries(result.url, fetched, result.days))
    return LoadedSeries(
        "live",
        f"live API {result.url}",
        f"answered at {stamp(fetched)}{note}",
        result.days,
        fetched,
    )


def cache_note(cache_file: Path, cached: CachedSeries) -> str:
    """Write the cache; ``""``, or why it could not be written (the live data is shown anyway)."""
    try:
        write_cache(cache_file, cached)
    except OSError as exc:
        return f"; not cached: {cache_file}: {exc.strerror or exc}"
    return ""


@dataclass(frozen=True, slots=True)
class SeriesDiff:
    """What changed between two versions of a series."""

    added: tuple[dt.date, ...]
    removed: tuple[dt.date, ...]
    revised: tuple[tuple[dt.date, int, int], ...]
    """(date, old count, new count) for dates present in both with different counts."""

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.revised)


def compare(old: Sequence[DayCount], new: Sequence[DayCount]) -> SeriesDiff:
    """Dates added, removed and revised going from ``old`` to ``new``."""
    before = dict(old)
    after = dict(new)
    return SeriesDiff(
        tuple(sorted(after.keys() - before.keys())),
        tuple(sorted(before.keys() - after.keys())),
        tuple(
            (date, before[date], after[date])
            for date in sorted(before.keys() & after.keys())
            if before[date] != after[date]
        ),
    )


def _span(dates: Sequence[dt.date], shown: int = 3) -> str:
    """The dates as runs of consecutive days (``2020-01-22, 2022-03-01..2022-03-05``)."""
    runs: list[list[dt.date]] = []
    for date in dates:
        if runs and date == runs[-1][-1] + dt.timedelta(days=1):
            runs[-1].append(date)
        else:
            runs.append([date])
    text = ", ".join(
        run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].isoformat()}"
        for run in runs[:shown]
    )
    return text + (f" and {len(runs) - shown} more" if len(runs) > shown else "")


def describe_diff(diff: SeriesDiff, baseline: str) -> str:
    """One line for ``covid fetch``: what changed relative to ``baseline``."""
    if diff.unchanged:
        return f"No change compared with {baseline}."
    parts: list[str] = []
    if diff.added:
        parts.append(f"{len(diff.added):,} new day(s) ({_span(diff.added)})")
    if diff.removed:
        parts.append(f"{len(diff.removed):,} day(s) no longer served ({_span(diff.removed)})")
    if diff.revised:
        date, old, new = diff.revised[0]
        first = f"first {date.isoformat()}: {old:,} -> {new:,}"
        parts.append(f"{len(diff.revised):,} revised day(s) ({first})")
    return f"Compared with {baseline}: " + ", ".join(parts) + "."
