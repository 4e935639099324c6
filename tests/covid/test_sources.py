"""Live API, then cache, then snapshot; and what `fetch` reports as changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from shopdata.covid.cache import CachedSeries, read_cache, write_cache
from shopdata.covid.client import CovidApiClient
from shopdata.covid.schema import DayCount
from shopdata.covid.snapshot import SNAPSHOT_LABEL
from shopdata.covid.sources import SeriesDiff, compare, describe_diff, load_series

from .conftest import ROUTE, FakeCovidApi, Reply, api_records, json_reply

NOW = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
D = dt.date(2020, 1, 23)


def api_client(api: FakeCovidApi) -> CovidApiClient:
    return CovidApiClient(api.base_url, max_retries=0, timeout_s=2)


def test_no_api_no_cache_shows_the_snapshot(tmp_path: Path) -> None:
    loaded = load_series(None, "singapore", tmp_path / "cache.json")
    assert (loaded.kind, loaded.label) == ("snapshot", SNAPSHOT_LABEL)
    assert loaded.reason == "no live API configured (SHOPDATA_COVID__API_BASE_URL is unset)"
    assert len(loaded.days) == 1143


def test_live_answer_is_shown_and_cached(tmp_path: Path, fake_api: FakeCovidApi) -> None:
    fake_api.script(json_reply(api_records(("2020-01-23", 1), ("2020-01-24", 3))))
    cache = tmp_path / "cache.json"
    loaded = load_series(api_client(fake_api), "singapore", cache, now=NOW)
    assert (loaded.kind, loaded.label) == ("live", f"live API {fake_api.base_url}{ROUTE}")
    assert loaded.reason == "answered at 2026-11-24 09:30 UTC"
    assert loaded.days == (DayCount(D, 1), DayCount(dt.date(2020, 1, 24), 3))
    assert read_cache(cache) == CachedSeries(fake_api.base_url + ROUTE, NOW, loaded.days)


def test_failing_api_falls_back_to_the_cache(tmp_path: Path, fake_api: FakeCovidApi) -> None:
    cache = tmp_path / "cache.json"
    write_cache(cache, CachedSeries("http://old/x", NOW, (DayCount(D, 7),)))
    fake_api.script(Reply(500))
    loaded = load_series(api_client(fake_api), "singapore", cache)
    assert (loaded.kind, loaded.label, loaded.days) == (
        "cache",
        "local cache of http://old/x",
        (DayCount(D, 7),),
    )
    assert loaded.reason == (
        f"the live API failed: GET {fake_api.base_url}{ROUTE}: HTTP 500 Internal Server Error "
        "(gave up after 1 attempt); showing the copy fetched at 2026-11-24 09:30 UTC"
    )


def test_failing_api_and_no_cache_falls_back_to_the_snapshot(
    tmp_path: Path, fake_api: FakeCovidApi
) -> None:
    fake_api.script(json_reply([]))
    loaded = load_series(api_client(fake_api), "singapore", tmp_path / "cache.json")
    assert loaded.kind == "snapshot"
    assert loaded.reason == (
        f"the live API failed: GET {fake_api.base_url}{ROUTE}: the API returned an empty array "
        "(no records); no cache yet"
    )


def test_corrupt_cache_falls_back_to_the_snapshot(tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    cache.write_text("{")
    loaded = load_series(None, "singapore", cache, offline_reason="started with --offline")
    assert loaded.kind == "snapshot"
    assert loaded.reason == (
        f"started with --offline; the cache is unusable: {cache}: not valid JSON "
        "(Expecting property name enclosed in double quotes, line 1)"
    )


def test_compare_and_describe() -> None:
    old = [DayCount(D, 1), DayCount(D.replace(day=24), 3), DayCount(D.replace(day=25), 3)]
    new = [DayCount(D.replace(day=24), 4), DayCount(D.replace(day=25), 3)]
    new += [DayCount(D.replace(day=26), 5), DayCount(D.replace(day=27), 9)]
    diff = compare(old, new)
    assert diff == SeriesDiff(
        added=(D.replace(day=26), D.replace(day=27)),
        removed=(D,),
        revised=((D.replace(day=24), 3, 4),),
    )
    assert describe_diff(diff, "the cache") == (
        "Compared with the cache: 2 new day(s) (2020-01-26..2020-01-27), 1 day(s) no longer "
        "served (2020-01-23), 1 revised day(s) (first 2020-01-24: 3 -> 4)."
    )
    assert describe_diff(compare(new, new), "the cache") == "No change compared with the cache."


def test_describe_names_each_run_of_days_not_one_misleading_span() -> None:
    # An API answer missing 2022-03-01..03-05 (and the snapshot's first day) was described as
    # "6 day(s) no longer served (2020-01-22..2022-03-05)": two years, to a reader.
    first = dt.date(2020, 1, 22)
    old = [DayCount(first + dt.timedelta(days=i), i) for i in range(800)]
    gone = {first, *(dt.date(2022, 3, d) for d in range(1, 6))}
    new = [day for day in old if day.date not in gone]
    assert describe_diff(compare(old, new), "the bundled snapshot") == (
        "Compared with the bundled snapshot: 6 day(s) no longer served "
        "(2020-01-22, 2022-03-01..2022-03-05)."
    )
    many = [day for day in old if day.date.day != 1]
    assert describe_diff(compare(old, many), "the cache") == (
        "Compared with the cache: 26 day(s) no longer served (2020-02-01, 2020-03-01, "
        "2020-04-01 and 23 more)."
    )
