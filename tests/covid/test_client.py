"""The API client against a real HTTP server on 127.0.0.1 (see conftest.FakeCovidApi)."""

from __future__ import annotations

import datetime as dt
import re
import socket
import time

import pytest

from shopdata.covid.client import ApiError, CovidApiClient, confirmed_url
from shopdata.covid.schema import DayCount
from shopdata.covid.snapshot import API_SHAPED_FILE, read_text

from .conftest import ROUTE, FakeCovidApi, Reply, api_records, json_reply


def client(api: FakeCovidApi, delays: list[float], **options: float) -> CovidApiClient:
    return CovidApiClient(
        api.base_url,
        timeout_s=options.get("timeout_s", 2.0),
        max_retries=int(options.get("max_retries", 3)),
        backoff_s=options.get("backoff_s", 0.01),
        sleep=delays.append,  # record the backoff instead of waiting it out
    )


def test_url_is_the_dayone_route() -> None:
    assert confirmed_url("http://h:1/api/", "singapore") == (
        "http://h:1/api/dayone/country/singapore/status/confirmed"
    )


def test_api_shaped_json_is_validated_into_days(fake_api: FakeCovidApi) -> None:
    delays: list[float] = []
    result = client(fake_api, delays).fetch_confirmed()
    assert result.url == fake_api.base_url + ROUTE
    assert (result.attempts, result.retries, delays) == (1, (), [])
    assert len(result.days) == 1142
    assert result.days[0] == DayCount(dt.date(2020, 1, 23), 1)
    assert result.days[-1] == DayCount(dt.date(2023, 3, 9), 2_235_294)
    assert fake_api.requests == [ROUTE]


def test_500_then_success_is_retried_once(fake_api: FakeCovidApi) -> None:
    fake_api.script(
        Reply(500, b"oops"), json_reply(api_records(("2020-01-23", 1), ("2020-01-24", 3)))
    )
    delays: list[float] = []
    result = client(fake_api, delays).fetch_confirmed()
    assert result.days == (DayCount(dt.date(2020, 1, 23), 1), DayCount(dt.date(2020, 1, 24), 3))
    assert (result.attempts, result.retries) == (2, ("HTTP 500 Internal Server Error",))
    assert delays == [0.01]
    assert fake_api.requests == [ROUTE, ROUTE]


def test_backoff_doubles_and_is_really_slept(fake_api: FakeCovidApi) -> None:
    fake_api.script(Reply(502), Reply(503), Reply(504), json_reply(api_records(("2020-01-23", 1))))
    result = CovidApiClient(fake_api.base_url, max_retries=3, backoff_s=0.01).fetch_confirmed()
    assert result.attempts == 4
    assert result.retries == (
        "HTTP 502 Bad Gateway",
        "HTTP 503 Service Unavailable",
        "HTTP 504 Gateway Timeout",
    )
    delays: list[float] = []
    fake_api.script(Reply(502), Reply(503), Reply(504), json_reply(api_records(("2020-01-23", 1))))
    client(fake_api, delays, max_retries=3, backoff_s=0.5).fetch_confirmed()
    assert delays == [0.5, 1.0, 2.0]


def test_429_honours_retry_after(fake_api: FakeCovidApi) -> None:
    fake_api.script(
        Reply(429, b"slow down", {"Retry-After": "3"}),
        Reply(429, b"slow down", {"Retry-After": "120"}),
        json_reply(api_records(("2020-01-23", 1))),
    )
    delays: list[float] = []
    result = client(fake_api, delays).fetch_confirmed()
    assert result.retries == ("HTTP 429 Too Many Requests", "HTTP 429 Too Many Requests")
    assert delays == [3.0, 8.0]  # Retry-After, capped at 8 s


def test_persistent_5xx_gives_up_with_the_last_status(fake_api: FakeCovidApi) -> None:
    fake_api.script(Reply(503))
    delays: list[float] = []
    with pytest.raises(ApiError) as excinfo:
        client(fake_api, delays, max_retries=2).fetch_confirmed()
    assert str(excinfo.value) == (
        f"GET {fake_api.base_url}{ROUTE}: HTTP 503 Service Unavailable (gave up after 3 attempts)"
    )
    assert len(fake_api.requests) == 3
    assert delays == [0.01, 0.02]


def test_timeout_is_retried_then_reported(fake_api: FakeCovidApi) -> None:
    fake_api.script(Reply(200, b"[]", delay_s=1.0))
    delays: list[float] = []
    with pytest.raises(ApiError) as excinfo:
        client(fake_api, delays, timeout_s=0.2, max_retries=1).fetch_confirmed()
    assert str(excinfo.value) == (
        f"GET {fake_api.base_url}{ROUTE}: timed out after 0.2 s (gave up after 2 attempts)"
    )
    assert len(fake_api.requests) == 2


def test_404_is_not_retried(fake_api: FakeCovidApi) -> None:
    delays: list[float] = []
    with pytest.raises(ApiError) as excinfo:
        client(fake_api, delays).fetch_confirmed("atlantis")
    url = f"{fake_api.base_url}/dayone/country/atlantis/status/confirmed"
    assert str(excinfo.value) == f"GET {url}: HTTP 404 Not Found"
    assert (len(fake_api.requests), delays) == (1, [])


def test_malformed_json_fails_at_once(fake_api: FakeCovidApi) -> None:
    fake_api.script(Reply(200, b'[{"Country": "Singapore",'))
    delays: list[float] = []
    with pytest.raises(ApiError) as excinfo:
        client(fake_api, delays).fetch_confirmed()
    assert str(excinfo.value) == (
        f"GET {fake_api.base_url}{ROUTE}: response is not valid JSON "
        "(Expecting property name enclosed in double quotes at line 1 column 26)"
    )
    assert len(fake_api.requests) == 1


def test_empty_array_is_an_error_not_zero_cases(fake_api: FakeCovidApi) -> None:
    fake_api.script(json_reply([]))
    with pytest.raises(ApiError) as excinfo:
        client(fake_api, []).fetch_confirmed()
    assert str(excinfo.value) == (
        f"GET {fake_api.base_url}{ROUTE}: the API returned an empty array (no records)"
    )


def test_schema_violation_names_item_and_field(fake_api: FakeCovidApi) -> None:
    records = api_records(("2020-01-23", 1), ("2020-01-24", 3))
    records[1]["Cases"] = None
    fake_api.script(json_reply(records))
    with pytest.raises(ApiError) as excinfo:
        client(fake_api, []).fetch_confirmed()
    assert str(excinfo.value) == (
        f"GET {fake_api.base_url}{ROUTE}: item 1: Cases: Input should be a valid integer (got None)"
    )


def test_refused_connection_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delays: list[float] = []
    api = CovidApiClient(f"http://127.0.0.1:{port}", max_retries=1, sleep=delays.append)
    with pytest.raises(ApiError) as excinfo:
        api.fetch_confirmed()
    message = str(excinfo.value)
    assert message.startswith(
        f"GET http://127.0.0.1:{port}{ROUTE}: connection failed (ConnectError"
    )
    assert message.endswith("(gave up after 2 attempts)")
    assert delays == [0.5]


def test_hanging_api_gives_up_at_the_overall_deadline(fake_api: FakeCovidApi) -> None:
    # Per-request timeout 10 s and 3 retries used to mean 4 x 10 s plus back-off.
    fake_api.script(Reply(200, b"[]", delay_s=60))
    api = CovidApiClient(fake_api.base_url, timeout_s=10, max_retries=3, deadline_s=1.0)
    started = time.monotonic()
    with pytest.raises(ApiError) as excinfo:
        api.fetch_confirmed()
    elapsed = time.monotonic() - started
    assert str(excinfo.value) == (
        f"GET {fake_api.base_url}{ROUTE}: no answer within the 1 s deadline (attempt 1 timed out)"
    )
    assert fake_api.requests == [ROUTE]
    assert elapsed < 3.0  # the deadline (1 s) plus slack, not 40 s


def test_trickling_api_gives_up_at_the_overall_deadline(fake_api: FakeCovidApi) -> None:
    # 20 bytes a second never trips a 10 s read timeout: only the overall deadline stops it.
    body = read_text(API_SHAPED_FILE).encode()
    fake_api.script(Reply(200, body, trickle_bps=20))
    api = CovidApiClient(fake_api.base_url, timeout_s=10, max_retries=3, deadline_s=1.5)
    started = time.monotonic()
    with pytest.raises(ApiError) as excinfo:
        api.fetch_confirmed()
    elapsed = time.monotonic() - started
    match = re.fullmatch(
        rf"GET {re.escape(fake_api.base_url + ROUTE)}: no answer within the 1\.5 s deadline "
        r"\((\d+) bytes of the body received\)",
        str(excinfo.value),
    )
    assert match is not None, str(excinfo.value)
    assert 20 <= int(match[1]) <= 60  # 1-3 chunks of 20 bytes, nowhere near the whole body
    assert fake_api.requests == [ROUTE]
    assert elapsed < 3.5


def test_back_off_past_the_deadline_gives_up_at_once(fake_api: FakeCovidApi) -> None:
    fake_api.script(Reply(503))
    delays: list[float] = []
    api = CovidApiClient(
        fake_api.base_url, max_retries=3, backoff_s=5, deadline_s=2, sleep=delays.append
    )
    with pytest.raises(ApiError) as excinfo:
        api.fetch_confirmed()
    assert str(excinfo.value) == (
        f"GET {fake_api.base_url}{ROUTE}: no answer within the 2 s deadline (attempt 1: HTTP 503 "
        "Service Unavailable; no time left to retry in 5 s)"
    )
    assert (fake_api.requests, delays) == ([ROUTE], [])


def test_deadline_leaves_a_quick_answer_alone(fake_api: FakeCovidApi) -> None:
    fake_api.script(Reply(502), json_reply(api_records(("2020-01-23", 1))))
    result = CovidApiClient(fake_api.base_url, backoff_s=0.01, deadline_s=5).fetch_confirmed()
    assert (result.attempts, result.days) == (2, (DayCount(dt.date(2020, 1, 23), 1),))
