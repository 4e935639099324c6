"""Validation of API-shaped records, the bundled files and the cache file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from shopdata.covid.cache import CachedSeries, read_cache, write_cache
from shopdata.covid.schema import DayCount, MalformedDataError, parse_api_records
from shopdata.covid.snapshot import API_SHAPED_FILE, load_snapshot, parse_csv, read_text

from .conftest import api_records


def test_bundled_api_shaped_file_matches_the_jhu_csv() -> None:
    api_days = parse_api_records(json.loads(read_text(API_SHAPED_FILE)), API_SHAPED_FILE)
    csv_days = load_snapshot()
    assert len(api_days) == 1142
    assert csv_days[0] == DayCount(dt.date(2020, 1, 22), 0)
    assert api_days == csv_days[1:]
    assert api_days[-1] == DayCount(dt.date(2023, 3, 9), 2_235_294)


def test_extra_fields_are_allowed_and_dates_are_utc_days() -> None:
    records = api_records(("2020-07-22", 5))
    records[0]["ID"] = "abc"
    records[0]["Date"] = "2020-07-22T23:30:00-02:00"  # 2020-07-23 01:30 UTC
    assert parse_api_records(records, "x") == (DayCount(dt.date(2020, 7, 23), 5),)


def _with(**changes: Any) -> list[dict[str, Any]]:
    records = api_records(("2020-01-23", 1), ("2020-01-24", 3))
    records[1].update(changes)
    return records


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"message": "gone"}, "src: expected a JSON array of daily records, got dict"),
        ([], "src: the API returned an empty array (no records)"),
        ([1], "src: item 0: expected an object, got int"),
        (_with(Cases="3"), "src: item 1: Cases: Input should be a valid integer (got '3')"),
        (
            _with(Cases=-1),
            "src: item 1: Cases: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            _with(Status="deaths"),
            "src: item 1: Status: Input should be 'confirmed' (got 'deaths')",
        ),
        (
            _with(Date="yesterday"),
            "src: item 1: Date: Input should be a valid datetime or date, "
            "input is too short (got 'yesterday')",
        ),
        (
            _with(Date="2020-01-23T00:00:00Z"),
            "src: item 1: duplicate date 2020-01-23 after 2020-01-23",
        ),
        (
            _with(Date="2020-01-01T00:00:00Z"),
            "src: item 1: out-of-order date 2020-01-01 after 2020-01-23",
        ),
        (
            _with(Province="Johor"),
            "src: item 1: expected country-level records, got province 'Johor' city ''",
        ),
    ],
)
def test_malformed_records_are_rejected_with_one_line(payload: Any, message: str) -> None:
    with pytest.raises(MalformedDataError) as excinfo:
        parse_api_records(payload, "src")
    assert str(excinfo.value) == message


def test_missing_field_names_the_field() -> None:
    records = _with()
    del records[1]["Cases"]
    with pytest.raises(MalformedDataError, match=r"^src: item 1: Cases: Field required \(got "):
        parse_api_records(records, "src")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,count\n", "f.csv: expected header date,cumulative_confirmed, got day,count"),
        ("date,cumulative_confirmed\n2020-01-01\n", "f.csv: line 2: expected 2 fields, got 1"),
        (
            "date,cumulative_confirmed\n2020-01-01,ten\n",
            "f.csv: line 2: expected an ISO date and an integer, got ['2020-01-01', 'ten']",
        ),
        (
            "date,cumulative_confirmed\n2020-01-01,-4\n",
            "f.csv: 2020-01-01: negative cumulative count -4",
        ),
        ("date,cumulative_confirmed\n", "f.csv: no data rows"),
    ],
)
def test_malformed_csv_is_rejected(text: str, message: str) -> None:
    with pytest.raises(MalformedDataError) as excinfo:
        parse_csv(text, "f.csv")
    assert str(excinfo.value) == message


def test_cache_round_trip_and_missing_cache(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.json"
    assert read_cache(path) is None
    cached = CachedSeries(
        "http://127.0.0.1:1/x",
        dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
        (DayCount(dt.date(2020, 1, 23), 1), DayCount(dt.date(2020, 1, 24), 3)),
    )
    write_cache(path, cached)
    assert read_cache(path) == cached
    assert [p.name for p in path.parent.iterdir()] == ["cache.json"]  # no temporary left


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON (Expecting property name enclosed in double quotes, line 1)"),
        ('{"format": 9}', "not a format-1 covid cache file"),
        ('{"format": 1}', "unexpected content ('days')"),
        (
            '{"format": 1, "source_url": "u", "fetched_at": "2026-01-01T00:00:00+00:00", '
            '"days": [["2020-01-02", 1], ["2020-01-01", 2]]}',
            "item 1: out-of-order date 2020-01-01 after 2020-01-02",
        ),
    ],
)
def test_malformed_cache_is_rejected(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "cache.json"
    path.write_text(text)
    with pytest.raises(MalformedDataError) as excinfo:
        read_cache(path)
    assert str(excinfo.value) == f"{path}: {message}"
