"""The hourly schedule: slot arithmetic, and a failing run does not stop it."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.members.schedule import next_run_at, run_forever

UTC = dt.UTC


@pytest.mark.parametrize(
    ("now", "minute", "every", "expected"),
    [
        ("2026-11-24T07:00:00", 0, 60, "2026-11-24T08:00:00"),  # strictly after now
        ("2026-11-24T07:59:59", 0, 60, "2026-11-24T08:00:00"),
        ("2026-11-24T23:30:00", 0, 60, "2026-11-25T00:00:00"),
        ("2026-11-24T07:10:00", 15, 60, "2026-11-24T07:15:00"),
        ("2026-11-24T07:20:00", 15, 60, "2026-11-24T08:15:00"),
        ("2026-11-24T07:20:00", 5, 15, "2026-11-24T07:35:00"),
        ("2026-11-24T00:02:00", 5, 15, "2026-11-24T00:05:00"),
    ],
)
def test_next_run_at(now: str, minute: int, every: int, expected: str) -> None:
    at = next_run_at(
        dt.datetime.fromisoformat(now).replace(tzinfo=UTC), minute=minute, interval_minutes=every
    )
    assert at == dt.datetime.fromisoformat(expected).replace(tzinfo=UTC)


class FakeClock:
    """Time that moves only when the scheduler sleeps."""

    def __init__(self, start: str) -> None:
        self.now = dt.datetime.fromisoformat(start).replace(tzinfo=UTC)
        self.slept: list[float] = []

    def __call__(self) -> dt.datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += dt.timedelta(seconds=seconds)


def test_runs_at_the_top_of_each_hour_and_survives_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock("2026-11-24T06:59:00")
    calls: list[dt.datetime] = []

    def job() -> None:
        calls.append(clock())
        if len(calls) == 2:
            raise RuntimeError("disk full")

    with caplog.at_level(logging.INFO, logger="shopdata.members.schedule"):
        runs = run_forever(
            job, minute=0, interval_minutes=60, max_runs=3, clock=clock, sleep=clock.sleep
        )
    assert runs == 3
    assert [c.strftime("%H:%M") for c in calls] == ["07:00", "08:00", "09:00"]
    assert "run 2 failed; the schedule goes on" in caplog.text
    assert "RuntimeError: disk full" in caplog.text


def test_run_now_runs_first_then_waits_for_the_slot() -> None:
    clock = FakeClock("2026-11-24T06:30:00")
    calls: list[str] = []
    run_forever(
        lambda: calls.append(clock().strftime("%H:%M")),
        minute=0,
        interval_minutes=60,
        run_now=True,
        max_runs=2,
        clock=clock,
        sleep=clock.sleep,
    )
    assert calls == ["06:30", "07:00"]


def test_schedule_command_runs_the_pipeline(ws: Any, applications: Callable[..., str]) -> None:
    ws.land("a.csv", applications(("Ann Lee", "ann@x.com", "1990-01-01", "12345678")))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "shopdata.cli",
            "members",
            "schedule",
            "--landing",
            str(ws.landing),
            "--output",
            str(ws.output),
            "--run-now",
            "--max-runs",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert "run finished with exit code 0" in done.stderr
    assert "stopping after 1 run(s)" in done.stderr
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]


def test_schedule_rejects_a_bad_minute(plain: Callable[[str], str]) -> None:
    result = CliRunner().invoke(app, ["members", "schedule", "--minute", "60"])
    assert result.exit_code == 2
    assert plain(result.stderr) == (
        "Usage: shopdata members schedule [OPTIONS] Try 'shopdata members schedule --help' for "
        "help. Error Invalid value for '--minute': Input should be less than or equal to 59"
    )
