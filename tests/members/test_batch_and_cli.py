"""Issue 11, items 11-15: one bad file never stops the batch; exit codes; folders checked before
any work; a lock no deleted file defeats; partitions that never go back in time."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shopdata.members.ingest import FIELD_LIMIT
from shopdata.members.landing import Entry, NotReadable, read_regular
from shopdata.members.pipeline import RuleConfig, _read_files, run_pipeline
from shopdata.members.state import StateStore

Workspace = Any  # see conftest.py

ANN = ("Ann Lee", "ann@x.com", "1990-01-01", "12345678")
HEADER = "name,email,date_of_birth,mobile_no\n"


def report_of(ws: Workspace) -> dict[str, Any]:
    path = sorted((ws.output / "reports").glob("date=*/hour=*/run_*.json"))[-1]
    return dict(json.loads(path.read_text()))


def errors(ws: Workspace) -> dict[str, str]:
    return {
        f["name"]: f["error"] for f in report_of(ws)["files_detail"] if f["status"] != "processed"
    }


def test_cr_only_line_ends_are_quarantined(ws: Workspace, applications: Callable[..., str]) -> None:
    ws.land("mac.csv", b"name,email,date_of_birth,mobile_no\rAnn Lee,a@x.com,1990-01-01,1\r")
    ws.land("good.csv", applications(ANN))
    assert ws.run()[0] == 1
    assert errors(ws) == {
        "mac.csv": "cr_line_ends: lines end in a lone CR (old Mac/Excel format); "
        "save as CSV UTF-8 with LF or CRLF"
    }
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]


def test_non_utf8_and_overlong_file_names(ws: Workspace, applications: Callable[..., str]) -> None:
    ws.land(b"caf\xe9.csv", applications(ANN))
    ws.land(b"bad\xff\x1b.csv", b"")
    long_name = "n" * 246 + ".csv"  # 250 bytes: the longest names still fit in a folder
    ws.land(long_name, b"")
    code, _, stderr = ws.run()
    assert (code, stderr) == (1, "")
    report = report_of(ws)
    run_id = report["run_id"]
    assert {f["name"]: f["status"] for f in report["files_detail"]} == {
        "bad\\xff\\x1b.csv": "quarantined",
        "caf\\xe9.csv": "processed",
        long_name: "quarantined",
    }
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]
    partition = report["outputs"]["successful"].split("/")[1:3]
    assert ws.files("archive") == [f"{'/'.join(partition)}/run={run_id}/caf\\xe9.csv"]
    cut = "n" * (255 - len(run_id) - 2 - len(".error.txt") - 4 - 1) + "~"
    assert ws.files("quarantine") == sorted(
        [
            f"{run_id}__bad\\xff\\x1b.csv",
            f"{run_id}__bad\\xff\\x1b.csv.error.txt",
            f"{run_id}__{cut}",
            f"{run_id}__{cut}.error.txt",
        ]
    )
    assert all(len(name.encode()) <= 255 for name in os.listdir(ws.output / "quarantine"))
    assert ws.landed() == []


def test_overlong_names_that_share_a_prefix_never_overwrite_each_other(ws: Workspace) -> None:
    for tail in ("a", "b"):
        ws.land("m" * 240 + tail + ".csv", b"")
    assert ws.run()[0] == 1
    stored = sorted(os.listdir(ws.output / "quarantine"))
    assert len(stored) == 4 and len(set(stored)) == 4
    assert sorted((ws.output / "quarantine" / s).stat().st_size for s in stored)[:2] == [0, 0]


def test_a_file_that_vanishes_is_skipped_and_the_rest_processed(
    ws: Workspace, applications: Callable[..., str], tmp_path: Path
) -> None:
    gone = ws.land("gone.csv", applications(ANN))
    gone.unlink()
    with pytest.raises(NotReadable) as caught:
        read_regular(gone)
    assert (caught.value.kind, caught.value.message) == (
        "vanished",
        "file vanished before it could be read",
    )
    ws.land("kept.csv", applications(ANN))
    store = StateStore(ws.output)
    records, _frames, rows, skipped, _controls = _read_files(
        ws.landing,
        [Entry("gone.csv", None), Entry("kept.csv", None)],
        store,
        "20260101T000000.000000Z-000000",
        "date=2026-01-01/hour=00",
        None,
    )
    assert skipped == [{"name": "gone.csv", "reason": "vanished before it could be read"}]
    assert [(r.name, r.status) for r in records] == [("kept.csv", "processed")]
    assert rows == {"kept.csv": 1}


@pytest.mark.parametrize("quoted", [True, False])
def test_field_limit_is_the_same_quoted_or_not(ws: Workspace, quoted: bool) -> None:
    def field(length: int) -> str:
        value = "A" * (length - 4) + " Lee"
        return f'"{value}"' if quoted else value

    ws.land("ok.csv", HEADER + f"{field(FIELD_LIMIT)},a@x.com,1990-01-01,12345678\n")
    ws.land(
        "long.csv",
        HEADER
        + "Ann Lee,b@x.com,1990-01-01,12345678\n"
        + f"{field(FIELD_LIMIT + 1)},c@x.com,1990-01-01,12345678\n",
    )
    assert ws.run()[0] == 1
    assert errors(ws) == {
        "long.csv": "field_too_long: field too long: column name at line 3 has 131,073 "
        "characters; the limit is 131,072"
    }
    assert [r["email"] for r in ws.rows("successful")] == ["a@x.com"]


def test_an_internal_error_is_exit_4_not_success(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("a.csv", applications(ANN))
    (ws.output / "_state" / "bookkeeping.sqlite").mkdir(parents=True)
    done = ws.run_process()
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr == (
        "Error: internal error: OperationalError: unable to open database file\n"
    )
    assert ws.landed() == ["a.csv"]


def test_systemd_example_does_not_treat_a_crash_as_success() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "members.md").read_text()
    unit = docs[
        docs.index("[Service]") : docs.index("# /etc/systemd/system/shopdata-members.timer")
    ]
    assert "SuccessExitStatus=1\n" in unit
    assert "SuccessExitStatus=1 3\n" not in unit and "4" not in unit.split("SuccessExitStatus")[1]


def test_overlapping_folders_are_a_usage_error(ws: Workspace) -> None:
    for landing, output in [
        (ws.landing, ws.landing / "out"),
        (ws.landing, ws.landing),
        (ws.output / "landing", ws.output),
    ]:
        landing.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                *(sys.executable, "-m", "shopdata.cli", "members", "run"),
                *("--landing", str(landing), "--output", str(output), "--quiet"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (done.returncode, done.stderr) == (
            2,
            f"Error: landing folder {landing} and output folder {output} overlap; "
            "use two separate folders\n",
        )


def test_an_unwritable_output_folder_is_a_usage_error(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("a.csv", applications(ANN))
    ws.output.mkdir()
    ws.output.chmod(0o555)
    try:
        done = ws.run_process(unprivileged=True)
    finally:
        ws.output.chmod(0o755)
    assert (done.returncode, done.stderr) == (
        2,
        f"Error: output folder {ws.output} is not writable by this user; nothing was done\n",
    )
    assert ws.landed() == ["a.csv"]


def test_deleting_files_does_not_defeat_the_lock(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("a.csv", applications(ANN))
    assert ws.run()[0] == 0
    state = ws.output / "_state"
    assert not (state / "lock").exists()  # nothing to delete, and no PID to look stale
    ws.land("b.csv", applications(("Bo Tan", "bo@x.com", "1990-01-01", "12345678")))
    held = os.open(state, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # a run in progress holds it
        for path in state.iterdir():
            if path.is_file():
                path.unlink()
        done = ws.run_process()
    finally:
        os.close(held)
    assert done.returncode == 3
    assert ws.landed() == ["b.csv"]


def test_a_clock_behind_the_last_run_keeps_partitions_monotonic(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    later = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
    earlier = dt.datetime(2026, 11, 24, 7, 5, tzinfo=dt.UTC)
    ws.land("a.csv", applications(ANN))
    first = run_pipeline(ws.landing, ws.output, RuleConfig(), now=later)
    assert first.document.clock_note is None
    ws.land("b.csv", applications(("Bo Tan", "bo@x.com", "1990-01-01", "12345678")))
    second = run_pipeline(ws.landing, ws.output, RuleConfig(), now=earlier)
    assert second.document.outputs.successful.startswith("successful/date=2026-11-24/hour=09/")
    assert second.document.partition_started_at == later.isoformat()
    assert second.document.started_at == earlier.isoformat()
    assert second.document.clock_note == (
        "clock reads 2026-11-24T07:05:00+00:00, earlier than the last committed run's start "
        "2026-11-24T09:30:00+00:00: outputs go to that run's partition"
    )
    assert second.run_id is not None and first.run_id is not None
    assert second.run_id.split("-")[0] >= first.run_id.split("-")[0]
