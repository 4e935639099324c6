"""`shopdata covid fetch|summary|dashboard`: output, exit codes and one-line errors."""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.covid.cache import CACHE_FILE, CachedSeries, read_cache, write_cache
from shopdata.covid.schema import DayCount

from .conftest import ROUTE, FakeCovidApi, Reply, api_records, json_reply

runner = CliRunner()


def test_fetch_without_api_is_a_usage_error() -> None:
    result = runner.invoke(app, ["covid", "fetch"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: no live API configured: set SHOPDATA_COVID__API_BASE_URL or pass --api-base-url\n"
    )


def test_fetch_rejects_a_non_http_url() -> None:
    result = runner.invoke(app, ["covid", "fetch", "--api-base-url", "ftp://x"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --api-base-url must start with http:// or https://, got 'ftp://x'\n"
    )


def test_fetch_first_time_compares_with_the_snapshot(
    fake_api: FakeCovidApi, covid_env: Path
) -> None:
    result = runner.invoke(app, ["covid", "fetch", "--api-base-url", fake_api.base_url])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Fetched 1,142 days (2020-01-23 to 2023-03-09, last cumulative 2,235,294) from "
        f"{fake_api.base_url}{ROUTE} in 1 attempt(s).",
        "Compared with the bundled snapshot: 1 day(s) no longer served (2020-01-22).",
        f"Wrote {covid_env / CACHE_FILE}",
    ]
    cached = read_cache(covid_env / CACHE_FILE)
    assert cached is not None and len(cached.days) == 1142


def test_fetch_reports_changes_against_the_cache_and_retries(
    fake_api: FakeCovidApi, covid_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", fake_api.base_url)
    fetched = dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)
    old = (DayCount(dt.date(2020, 1, 23), 1), DayCount(dt.date(2020, 1, 24), 3))
    write_cache(covid_env / CACHE_FILE, CachedSeries("http://old", fetched, old))
    fake_api.script(
        Reply(503),
        json_reply(api_records(("2020-01-23", 1), ("2020-01-24", 2), ("2020-01-25", 4))),
    )
    result = runner.invoke(app, ["covid", "fetch"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        "Fetched 3 days (2020-01-23 to 2020-01-25, last cumulative 4) from "
        f"{fake_api.base_url}{ROUTE} in 2 attempt(s) after retrying HTTP 503 Service "
        "Unavailable.",
        "Compared with the cache fetched at 2026-01-02 03:04 UTC: 1 new day(s) (2020-01-25), "
        "1 revised day(s) (first 2020-01-24: 3 -> 2).",
    ]


def test_failed_fetch_keeps_the_cache(
    fake_api: FakeCovidApi, covid_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__MAX_RETRIES", "1")
    fake_api.script(Reply(500))
    result = runner.invoke(app, ["covid", "fetch", "--api-base-url", fake_api.base_url])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: GET {fake_api.base_url}{ROUTE}: HTTP 500 Internal Server Error (gave up after "
        "2 attempts); the cache was not changed\n"
    )
    assert not (covid_env / CACHE_FILE).exists()
    assert len(fake_api.requests) == 2


def test_summary_lists_pauses() -> None:
    result = runner.invoke(app, ["covid", "summary"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "Source: Johns Hopkins University CSSE COVID-19 Data Repository (bundled snapshot); "
        "why: no live API configured (SHOPDATA_COVID__API_BASE_URL is unset)"
    )
    assert lines[1:4] == [
        "Days: 1,143, 2020-01-22 to 2023-03-09; last cumulative 2,235,294",
        "Reporting pauses: 20 (catch-ups spread over 60 days); days not reported yet: 1; "
        "downward corrections: 0; suspect counts taken back: 0; missing days filled: 0",
        "  pause 2020-03-09..2020-03-10: 10 cases spread over 2 days (5.0 a day)",
    ]
    assert "  pause 2023-02-13..2023-02-27: 4,391 cases spread over 15 days (292.7 a day)" in lines
    assert lines[-1] == "  not reported yet: 2023-03-09"


def test_dashboard_on_a_taken_port_fails_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["covid", "dashboard", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_dashboard_port_out_of_range_is_a_usage_error() -> None:
    result = runner.invoke(app, ["covid", "dashboard", "--port", "70000"])
    assert result.exit_code == 2
    assert "Invalid value for '--port': Input should be less than or equal to 65535" in (
        result.stderr
    )


def test_screenshots_needs_exactly_one_folder(capsys: pytest.CaptureFixture[str]) -> None:
    from screenshots import main  # tools/screenshots.py

    assert main([]) == 2
    assert capsys.readouterr().err == "usage: tools/screenshots.py DOCS_DIR\n"


SPIKED = api_records(
    ("2021-06-01", 61_000),
    ("2021-06-02", 61_100),
    ("2021-06-03", 61_268),
    ("2021-06-04", 612_680),
    ("2021-06-05", 61_300),
    ("2021-06-06", 61_350),
)


def test_fetch_flags_a_reverted_spike_and_exits_3(fake_api: FakeCovidApi, covid_env: Path) -> None:
    fake_api.script(json_reply(SPIKED))
    result = runner.invoke(app, ["covid", "fetch", "--api-base-url", fake_api.base_url])
    assert result.exit_code == 3, result.output
    assert result.stdout.splitlines()[-1] == (
        "Suspect: 2021-06-04: cumulative 61,268 -> 612,680 -> 61,300 (spike, reverted the next day)"
    )
    assert result.stderr == (
        "Error: 1 suspect count(s) that the source took back (listed above); cached as served, "
        "flagged on the page and in `covid summary`\n"
    )
    # Cached as served: the page and `summary` flag it from there.
    cached = read_cache(covid_env / CACHE_FILE)
    assert cached is not None and len(cached.days) == 6
    summary = runner.invoke(app, ["covid", "summary"])
    assert summary.exit_code == 0, summary.output
    lines = summary.stdout.splitlines()
    assert lines[1] == "Days: 6, 2021-06-01 to 2021-06-06; last cumulative 61,350"
    assert "suspect counts taken back: 1;" in lines[2]
    assert lines[-1] == (
        "  suspect 2021-06-04: cumulative 61,268 -> 612,680 -> 61,300 "
        "(spike, reverted the next day)"
    )


def test_fetch_flags_a_10x_jump_on_the_last_day_and_exits_3(
    fake_api: FakeCovidApi, covid_env: Path
) -> None:
    jumped = api_records(
        ("2023-03-07", 2_230_868), ("2023-03-08", 2_235_294), ("2023-03-09", 22_352_940)
    )
    fake_api.script(json_reply(jumped))
    result = runner.invoke(app, ["covid", "fetch", "--api-base-url", fake_api.base_url])
    assert result.exit_code == 3, result.output
    assert result.stdout.splitlines()[-1] == (
        "Suspect: 2023-03-09: cumulative 2,235,294 -> 22,352,940 in one day (10.0x, not taken back)"
    )
    assert result.stderr == (
        "Error: 1 implausible jump(s) not taken back (listed above); cached as served, "
        "flagged on the page and in `covid summary`\n"
    )
    summary = runner.invoke(app, ["covid", "summary"])
    assert summary.exit_code == 0, summary.output
    lines = summary.stdout.splitlines()
    assert lines[2].endswith("; implausible jumps not taken back: 1")
    assert lines[-1] == (
        "  implausible 2023-03-09: cumulative 2,235,294 -> 22,352,940 in one day "
        "(10.0x, not taken back)"
    )


def test_fetch_obeys_the_overall_deadline_against_a_trickling_api(
    fake_api: FakeCovidApi, covid_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__DEADLINE_S", "1.5")
    fake_api.script(Reply(200, b"[" + b" " * 2000 + b"]", trickle_bps=20))
    result = runner.invoke(app, ["covid", "fetch", "--api-base-url", fake_api.base_url])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: GET {fake_api.base_url}{ROUTE}: no answer within the 1.5 s deadline ("
    )
    assert result.stderr.endswith(" bytes of the body received); the cache was not changed\n")
    assert not (covid_env / CACHE_FILE).exists()


def test_summary_says_it_reads_only_the_cache_when_an_api_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHOPDATA_COVID__API_BASE_URL", "http://127.0.0.1:9")
    result = runner.invoke(app, ["covid", "summary"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "Source: Johns Hopkins University CSSE COVID-19 Data Repository (bundled snapshot); "
        "why: `covid summary` reads only the local cache, never the live API (run `covid "
        "fetch` to refresh it)"
    )


def test_a_cache_dir_that_is_a_file_is_one_line_not_a_traceback(
    fake_api: FakeCovidApi, tmp_path: Path
) -> None:
    not_a_dir = tmp_path / "afile"
    not_a_dir.write_text("x")
    fake_api.script(json_reply(SPIKED))
    result = runner.invoke(
        app, ["covid", "fetch", "--api-base-url", fake_api.base_url, "--cache-dir", str(not_a_dir)]
    )
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"Error: cannot write {not_a_dir / CACHE_FILE}: Not a directory; "
        "the cache was not changed\n"
    )
    summary = runner.invoke(app, ["covid", "summary", "--cache-dir", str(not_a_dir)])
    assert summary.exit_code == 0, summary.output
    assert summary.stdout.splitlines()[0].endswith(
        f"; the cache is unusable: {not_a_dir / CACHE_FILE}: cannot be read (Not a directory)"
    )
