"""The dashboard's shown state and its background refresh, against a real HTTP server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from shopdata.covid.cache import read_cache
from shopdata.covid.client import CovidApiClient
from shopdata.covid.live import LiveData, age_text
from shopdata.covid.sources import fallback

from .conftest import ROUTE, FakeCovidApi, Reply, api_records, json_reply

NOW = dt.datetime(2026, 11, 29, 15, 0, tzinfo=dt.UTC)


def test_age_text() -> None:
    assert age_text(None, NOW) == ""
    assert age_text(NOW - dt.timedelta(seconds=20), NOW) == (
        "fetched just now (2026-11-29 14:59 UTC)"
    )
    assert age_text(NOW - dt.timedelta(minutes=5), NOW).startswith("fetched 5 min ago (")
    assert age_text(NOW - dt.timedelta(hours=3), NOW).startswith("fetched 3 h ago (")
    assert age_text(NOW - dt.timedelta(days=9), NOW).startswith("fetched 9 days ago (")


def test_refresh_publishes_live_data_then_keeps_it_when_a_refresh_fails(
    tmp_path: Path, fake_api: FakeCovidApi
) -> None:
    cache = tmp_path / "cache.json"
    live = LiveData(fallback("waiting", cache, api_configured=True), 5.0)
    assert (live.current().loaded.kind, live.current().version) == ("snapshot", 1)
    fake_api.script(json_reply(api_records(("2020-01-23", 1), ("2020-01-24", 3))), Reply(500))
    client = CovidApiClient(fake_api.base_url, max_retries=0, deadline_s=5)
    live.refresh_once(client, "singapore", cache, now=lambda: NOW)
    shown = live.current()
    assert (shown.loaded.kind, shown.version, len(shown.analysis.days)) == ("live", 2, 2)
    assert shown.loaded.reason == "answered at 2026-11-29 15:00 UTC"
    assert read_cache(cache) is not None
    later = NOW + dt.timedelta(hours=1)
    live.refresh_once(client, "singapore", cache, now=lambda: later)
    shown = live.current()
    assert (shown.loaded.kind, shown.version, len(shown.analysis.days)) == ("live", 3, 2)
    assert shown.loaded.reason == (
        "answered at 2026-11-29 15:00 UTC; the refresh at 2026-11-29 16:00 UTC failed: "
        f"GET {fake_api.base_url}{ROUTE}: HTTP 500 Internal Server Error (gave up after 1 attempt)"
    )
    assert live.fetches == 2


def test_a_failed_first_fetch_shows_the_cache_with_the_reason(
    tmp_path: Path, fake_api: FakeCovidApi
) -> None:
    cache = tmp_path / "cache.json"
    live = LiveData(fallback("waiting", cache, api_configured=True), 5.0)
    fake_api.script(Reply(200, b"[]", delay_s=30))
    client = CovidApiClient(fake_api.base_url, timeout_s=10, deadline_s=0.5)
    live.refresh_once(client, "singapore", cache)
    shown = live.current()
    assert (shown.loaded.kind, shown.version) == ("snapshot", 2)
    assert shown.loaded.reason == (
        f"the live API failed: GET {fake_api.base_url}{ROUTE}: no answer within the 0.5 s "
        "deadline (attempt 1 timed out); no cache yet"
    )


def test_live_data_is_shown_even_when_the_cache_cannot_be_written(
    tmp_path: Path, fake_api: FakeCovidApi
) -> None:
    # cache_dir pointing at a file (a careless operator): the answered data was dropped with
    # a logged traceback and the page kept the snapshot.
    not_a_dir = tmp_path / "afile"
    not_a_dir.write_text("x")
    cache = not_a_dir / "singapore_confirmed.json"
    live = LiveData(fallback("waiting", cache, api_configured=True), 5.0)
    assert live.current().loaded.reason.startswith("waiting; the cache is unusable: ")
    fake_api.script(json_reply(api_records(("2020-01-23", 1), ("2020-01-24", 3))))
    client = CovidApiClient(fake_api.base_url, max_retries=0, deadline_s=5)
    live.refresh_once(client, "singapore", cache, now=lambda: NOW)
    shown = live.current()
    assert (shown.loaded.kind, len(shown.analysis.days)) == ("live", 2)
    assert shown.loaded.reason == (
        f"answered at 2026-11-29 15:00 UTC; not cached: {cache}: Not a directory"
    )
