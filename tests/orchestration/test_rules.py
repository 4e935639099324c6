"""The orchestration's pure decisions on plain values."""

import errno

import psycopg
import pytest

from shopdata.orchestration.rules import (
    Outcome,
    accuracy_outcome,
    cron_for,
    flags_outcome,
    is_transient,
    landing_run_key,
    one_line,
    quarantine_outcome,
    share_outcome,
)
from shopdata.orchestration.settings import OrchestrationSettings


@pytest.mark.parametrize(
    ("minute", "every", "cron"),
    [
        (0, 60, "0 * * * *"),
        (7, 60, "7 * * * *"),
        (5, 15, "5,20,35,50 * * * *"),
        (50, 20, "10,30,50 * * * *"),
        (0, 120, "0 0,2,4,6,8,10,12,14,16,18,20,22 * * *"),
        (30, 1440, "30 0 * * *"),
    ],
)
def test_cron_for_the_members_schedule_settings(minute: int, every: int, cron: str) -> None:
    assert cron_for(minute, every) == cron


@pytest.mark.parametrize("every", [7, 45, 90, 1441])
def test_cron_refuses_intervals_cron_cannot_say(every: int) -> None:
    with pytest.raises(ValueError, match=f"schedule_interval_minutes={every} does not divide"):
        cron_for(0, every)


def test_share_band_edges() -> None:
    assert share_outcome(50, 100, 0.5, 0.6) == Outcome(
        True, "successful share 50.0% (50 of 100) within [50%, 60%]"
    )
    assert share_outcome(61, 100, 0.5, 0.6) == Outcome(
        False, "successful share 61.0% (61 of 100) above the band [50%, 60%]"
    )
    assert share_outcome(0, 0, 0.5, 0.6) == Outcome(True, "no applications in the run")


def test_quarantine_lists_every_file() -> None:
    files = [
        {"name": "a.csv", "status": "processed"},
        {"name": "b.csv", "status": "duplicate", "error": "duplicate file: same content"},
    ]
    assert quarantine_outcome(files) == Outcome(
        False, "1 of 2 files quarantined: b.csv (duplicate: duplicate file: same content)"
    )
    assert quarantine_outcome(files[:1]) == Outcome(True, "all 1 files processed")


def test_flags() -> None:
    assert flags_outcome([], []) == Outcome(True, "no suspect counts")
    assert flags_outcome(["2021-06-02: spike"], ["2023-03-09: 10x"]) == Outcome(
        False,
        "1 suspect count(s) taken back, 1 implausible jump(s): taken back: 2021-06-02: spike; jump: 2023-03-09: 10x",
    )


def metrics(grouped: float, stratified: float, ceiling: float) -> dict[str, object]:
    return {
        "selection": {"chosen": "logistic"},
        "ceiling": {"best": {"accuracy": ceiling}},
        "scores": {
            "grouped": {"logistic": {"accuracy": {"mean": grouped}}},
            "stratified": {"logistic": {"accuracy": {"mean": stratified}}},
        },
    }


def test_accuracy_above_the_ceiling_fails() -> None:
    assert accuracy_outcome(metrics(0.35, 0.36, 0.358)) == Outcome(
        False,
        "logistic: accuracy grouped 0.3500, stratified 0.3600; ceiling 0.3580: above the ceiling under stratified",
    )
    assert accuracy_outcome(metrics(0.358, 0.30, 0.358)).passed


def test_transient_errors() -> None:
    assert is_transient(psycopg.OperationalError("connection refused"))  # no SQLSTATE: not reached
    assert is_transient(psycopg.errors.DeadlockDetected("deadlock"))  # 40P01
    assert is_transient(psycopg.errors.AdminShutdown("shutdown"))  # 57P01
    assert not is_transient(psycopg.errors.CheckViolation("bad row"))  # 23514: bad data
    assert not is_transient(psycopg.errors.UndefinedTable("no table"))  # 42P01: a bug
    assert is_transient(ConnectionResetError())
    assert is_transient(TimeoutError())
    assert is_transient(OSError(errno.ECONNREFUSED, "refused"))
    assert not is_transient(OSError(errno.ENOSPC, "disk full"))
    assert not is_transient(ValueError("bad value"))

    class ApiError(RuntimeError):
        pass

    assert is_transient(ApiError("HTTP 503"), (ApiError,))


def test_one_line() -> None:
    assert one_line(ValueError("first\nsecond")) == "ValueError: first"
    assert one_line(KeyError()) == "KeyError"


def test_run_key_depends_on_the_set_not_the_order() -> None:
    a = [("a.csv", 10, 1), ("b.csv", 20, 2)]
    assert landing_run_key(a) == landing_run_key(list(reversed(a)))
    assert landing_run_key(a) != landing_run_key([("a.csv", 10, 1), ("b.csv", 21, 2)])
    assert landing_run_key([("\udcff.csv", 1, 1)]).startswith("landing-")  # undecodable names


def test_band_must_be_in_order() -> None:
    with pytest.raises(
        ValueError, match=r"successful_share_min \(0.7\) is above successful_share_max \(0.6\)"
    ):
        OrchestrationSettings(successful_share_min=0.7, successful_share_max=0.6)
