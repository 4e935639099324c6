"""Exactly once, nothing lost: IDs across runs, duplicate files, quarantine, the lock, kill -9."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Workspace = Any  # see conftest.py

ANN = ("Ann Lee", "ann@x.com", "1990-01-01", "12345678")
BEN = ("Ben Lee", "ben@x.com", "1990-01-01", "87654321")  # same last name and birthday as Ann
CAT = ("Cat Lee", "cat@x.com", "1990-01-01", "11112222")


def report_of(ws: Workspace) -> dict[str, Any]:
    (path,) = sorted((ws.output / "reports").glob("date=*/hour=*/run_*.json"))[-1:]
    return dict(json.loads(path.read_text()))


def test_ids_stay_unique_across_runs(ws: Workspace, applications: Callable[..., str]) -> None:
    ws.land("1.csv", applications(ANN))
    assert ws.run()[0] == 0
    ws.land("2.csv", applications(BEN, ("Ann Lee", "ANN@X.COM", "1990-01-01", "12345678"), CAT))
    assert ws.run()[0] == 0
    assert [(r["email"], r["membership_id"]) for r in ws.rows("successful")] == [
        ("ann@x.com", "Lee_d6165"),
        ("ben@x.com", "Lee_d6165_2"),
        ("cat@x.com", "Lee_d6165_3"),
    ]
    (duplicate,) = ws.rows("unsuccessful")
    assert (duplicate["email"], duplicate["reasons"], duplicate["duplicate_of"]) == (
        "ANN@X.COM",
        "duplicate_application",
        "Lee_d6165",
    )
    assert report_of(ws)["totals"]["duplicate_applications"] == 1


def test_repeated_email_in_one_run_is_a_duplicate(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("1.csv", applications(ANN, ("Ann B. Lee", "ann@x.com", "bad-date", "12345678")))
    ws.land("2.csv", applications(ANN))
    assert ws.run()[0] == 0
    assert [r["membership_id"] for r in ws.rows("successful")] == ["Lee_d6165"]
    assert [
        (r["source_file"], r["line_number"], r["reasons"], r["duplicate_of"])
        for r in ws.rows("unsuccessful")
    ] == [
        ("1.csv", "3", "date_of_birth_invalid;duplicate_application", "Lee_d6165"),
        ("2.csv", "2", "duplicate_application", "Lee_d6165"),
    ]


def test_same_content_under_another_name_is_not_processed_twice(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    content = applications(ANN)
    ws.land("first.csv", content)
    assert ws.run()[0] == 0
    ws.land("again.csv", content)
    ws.land("other.csv", applications(BEN))
    code, _, _ = ws.run()
    assert code == 1  # done, but a file needs attention
    report = report_of(ws)
    (again,) = [f for f in report["files_detail"] if f["name"] == "again.csv"]
    assert again["status"] == "duplicate"
    assert again["error"].startswith("duplicate file: same content (sha256 ")
    assert again["error"].endswith(f"as first.csv (run {report_of_first(ws)}); not processed again")
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com", "ben@x.com"]
    quarantined = ws.files("quarantine")
    assert [q.split("__", 1)[1] for q in quarantined] == ["again.csv", "again.csv.error.txt"]
    assert ws.landed() == []


def report_of_first(ws: Workspace) -> str:
    paths = sorted((ws.output / "reports").glob("date=*/hour=*/run_*.json"))
    return str(json.loads(paths[0].read_text())["run_id"])


def test_two_identical_files_in_one_batch(ws: Workspace, applications: Callable[..., str]) -> None:
    ws.land("a.csv", applications(ANN))
    ws.land("b.csv", applications(ANN))
    assert ws.run()[0] == 1
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]
    detail = {f["name"]: f["status"] for f in report_of(ws)["files_detail"]}
    assert detail == {"a.csv": "processed", "b.csv": "duplicate"}


BAD_FILES = {
    "not_utf8.csv": (
        b"name,email,date_of_birth,mobile_no\nJos\xe9,j@x.com,1990-01-01,12345678\n",
        "not_utf8: not UTF-8: invalid byte 0xe9 at offset 38",
    ),
    "empty.csv": (b"", "empty: file is empty"),
    "header_only.csv": (
        b"name,email,date_of_birth,mobile_no\n",
        "header_only: file has a header but no data rows",
    ),
    "missing_column.csv": (
        b"name,email,mobile_no\nAnn,a@x.com,12345678\n",
        "missing_columns: missing required column(s): date_of_birth (header: name, email, mobile_no)",
    ),
    "ragged.csv": (
        b"name,email,date_of_birth,mobile_no\nAnn,a@x.com,1990-01-01\n",
        "ragged_rows: ragged rows: 1 record(s) do not have the header's 4 fields; the first is at line 2 with 3",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_quarantined_and_the_rest_processed(
    ws: Workspace, applications: Callable[..., str], name: str
) -> None:
    content, error = BAD_FILES[name]
    ws.land(name, content)
    ws.land("good.csv", applications(ANN))
    code, stdout, stderr = ws.run()
    assert (code, stdout, stderr) == (1, "", "")
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]
    report = report_of(ws)
    assert report["totals"]["files_quarantined"] == 1
    (entry,) = [f for f in report["files_detail"] if f["name"] == name]
    assert (entry["status"], entry["error"]) == ("quarantined", error)
    run_id = report["run_id"]
    assert ws.files("quarantine") == [f"{run_id}__{name}", f"{run_id}__{name}.error.txt"]
    assert (ws.output / "quarantine" / f"{run_id}__{name}").read_bytes() == content  # nothing lost
    assert (ws.output / "quarantine" / f"{run_id}__{name}.error.txt").read_text() == error + "\n"
    assert ws.landed() == []


def test_files_still_being_written_are_left_alone(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land(".incoming.csv", applications(ANN))
    ws.land("upload.csv.part", applications(ANN))
    assert ws.run()[0] == 0
    assert ws.landed() == [".incoming.csv", "upload.csv.part"]
    assert not (ws.output / "successful").exists()


def test_a_second_run_waits_for_no_one(ws: Workspace, applications: Callable[..., str]) -> None:
    ws.land("a.csv", applications(ANN))
    (ws.output / "_state").mkdir(parents=True)
    held = os.open(ws.output / "_state", os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = ws.run_process()
    finally:
        os.close(held)
    assert done.returncode == 3
    assert (
        done.stderr
        == f"Error: another run holds the lock on {ws.output / '_state'}; nothing was done\n"
    )
    assert ws.landed() == ["a.csv"]
    assert ws.run()[0] == 0  # once the lock is free, the work is done
    assert ws.landed() == []


def test_concurrent_runs_process_each_file_once(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    for index in range(20):
        ws.land(
            f"{index:02d}.csv",
            applications((f"P{index} Lee", f"p{index}@x.com", "1990-01-01", "12345678")),
        )
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "shopdata.cli", *ws.args("--quiet")],
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert codes[0] == 0 and set(codes) <= {0, 3}
    ws.run()  # whatever a locked-out run left is done now
    emails = Counter(r["email"] for r in ws.rows("successful"))
    assert emails == Counter({f"p{i}@x.com": 1 for i in range(20)})
    assert ws.landed() == []


@pytest.mark.parametrize("crash_at", ["after_manifest", "after_outputs", "after_commit"])
def test_kill_minus_nine_then_rerun(
    ws: Workspace, applications: Callable[..., str], crash_at: str
) -> None:
    ws.land("1.csv", applications(ANN, ("Bad", "bad", "x", "1")))
    ws.land("2.csv", applications(BEN))
    ws.land("3.csv", b"")  # a bad file too
    killed = ws.run_process(env={"SHOPDATA_MEMBERS_CRASH_AT": crash_at})
    assert killed.returncode == -9
    rerun = ws.run_process()
    # Before the commit the rerun redoes the work (and quarantines the empty file again, exit 1);
    # after it, the rerun only finishes moving the inputs of the run that counted.
    assert rerun.returncode == (0 if crash_at == "after_commit" else 1)
    assert Counter(r["email"] for r in ws.rows("successful")) == Counter(
        {"ann@x.com": 1, "ben@x.com": 1}
    )
    assert Counter(r["email"] for r in ws.rows("unsuccessful")) == Counter({"bad": 1})
    assert [r["membership_id"] for r in ws.rows("successful")] == ["Lee_d6165", "Lee_d6165_2"]
    assert ws.landed() == []
    archived = sorted(Path(a).name for a in ws.files("archive"))
    assert archived == ["1.csv", "2.csv"]
    assert sorted(q.split("__", 1)[1] for q in ws.files("quarantine")) == [
        "3.csv",
        "3.csv.error.txt",
    ]
    assert list((ws.output / "_state" / "pending").iterdir()) == []
    assert len(list((ws.output / "reports").rglob("*.json"))) == 1
    # and a third run has nothing left to do
    assert ws.run()[0] == 0
    assert len(ws.rows("successful")) == 2
