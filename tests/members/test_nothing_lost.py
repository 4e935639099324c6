"""Issue 11, items 4-6: replaced or growing files, outputs visible only once the run counts, orphans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shopdata.members.pipeline import RuleConfig, RunOptions, run_pipeline
from shopdata.members.report import RecoveredRun
from shopdata.salesdb.members_loader import find_member_files

from .conftest import settle

Workspace = Any  # see conftest.py

ANN = ("Ann Lee", "ann@x.com", "1990-01-01", "12345678")
BEN = ("Ben Ong", "ben@x.com", "1991-02-03", "87654321")
CAT = ("Cat Tan", "cat@x.com", "1992-03-04", "11112222")


def row(person: tuple[str, str, str, str]) -> str:
    return ",".join(person) + "\n"


def run_in_process(ws: Workspace, progress: Callable[[int, int, str], None] | None = None) -> Any:
    return run_pipeline(ws.landing, ws.output, RuleConfig(), progress=progress)


def test_a_file_replaced_mid_run_is_left_for_the_next_run(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("a.csv", applications(ANN))
    ws.land("z.csv", applications(CAT))

    def producer(index: int, total: int, name: str) -> None:
        if name == "z.csv":  # a.csv has been read by now: the producer renames over it
            part = ws.land("a.csv.part", applications(BEN))
            os.replace(part, ws.landing / "a.csv")

    first = run_in_process(ws, producer)
    assert first.document.left_in_landing == ["a.csv"]
    assert ws.landed() == ["a.csv"]
    assert (ws.landing / "a.csv").read_text() == applications(BEN)  # never archived unprocessed
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com", "cat@x.com"]
    marker = json.loads((ws.output / "committed" / f"{first.run_id}.json").read_text())
    assert marker["left_in_landing"] == ["a.csv"]

    second = run_in_process(ws)
    assert second.document.totals.files_processed == 1
    assert sorted(r["email"] for r in ws.rows("successful")) == [
        "ann@x.com",
        "ben@x.com",
        "cat@x.com",
    ]
    assert ws.landed() == []
    assert ws.rows("unsuccessful") == []


def test_a_growing_file_is_processed_again_only_for_its_new_lines(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("a.csv", applications(ANN))
    ws.land("z.csv", applications(CAT))

    def appender(index: int, total: int, name: str) -> None:
        if name == "z.csv":
            with (ws.landing / "a.csv").open("a") as handle:
                handle.write(row(BEN))

    first = run_in_process(ws, appender)
    assert first.document.left_in_landing == ["a.csv"]
    with (ws.landing / "a.csv").open("a") as handle:  # the writer goes on after the commit
        handle.write(row(("Bad", "bad", "x", "1")))

    second = run_in_process(ws)
    (entry,) = second.document.files_detail
    assert (entry.name, entry.status, entry.rows) == ("a.csv", "processed", 2)
    assert sorted(r["email"] for r in ws.rows("successful")) == [
        "ann@x.com",
        "ben@x.com",
        "cat@x.com",
    ]
    # The old line was not read twice (it would be a duplicate application), and the new lines
    # keep their real line numbers.
    assert [(r["source_file"], r["line_number"], r["email"]) for r in ws.rows("unsuccessful")] == [
        ("a.csv", "4", "bad")
    ]
    assert ws.landed() == []
    (archived,) = [a for a in ws.files("archive") if a.endswith("a.csv") and second.run_id in a]
    assert (ws.output / "archive" / archived).read_text() == applications(ANN, BEN) + row(
        ("Bad", "bad", "x", "1")
    )


def test_a_file_still_being_written_waits_for_the_settle_window(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    fresh = ws.land("a.csv", applications(ANN), settled=False)
    assert ws.run() == (0, "", "")
    assert ws.landed() == ["a.csv"]
    assert not (ws.output / "successful").exists()
    settle(fresh, age=6)  # the default window is 5 seconds
    assert ws.run()[0] == 0
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]


def test_a_file_rewritten_in_place_with_its_mtime_put_back_is_not_archived_unprocessed(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    """Same size, same mtime (``touch -d``), new content: only ctime tells, and it is checked."""
    path = ws.land("a.csv", applications(ANN))
    killed = ws.run_process(env={"SHOPDATA_MEMBERS_CRASH_AT": "after_commit"})
    assert killed.returncode == -9
    before = path.stat()
    other = applications(("Ben Ong", "ben@x.com", "1990-01-01", "12345678"))
    assert len(other) == before.st_size
    path.write_text(other)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    rerun = ws.run_process()  # rolls the killed run forward, then reads the new content
    assert (rerun.returncode, rerun.stderr) == (0, "")
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com", "ben@x.com"]
    assert ws.landed() == []
    # The first content was overwritten by its producer; the archive holds what was read last.
    assert [p.read_text() for p in ws.output.glob("archive/*/*/*/a.csv")] == [other]
    markers = [json.loads(m.read_text()) for m in (ws.output / "committed").glob("*.json")]
    assert sorted(m["left_in_landing"] for m in markers) == [[], ["a.csv"]]


def test_files_stamped_in_the_future_after_the_clock_went_back_are_processed(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    """A clock set back an hour makes every landed file look modified in the future: they are
    watched for the settle window instead of waiting, unreported, for the clock to catch up."""
    ws.land("a.csv", applications(ANN))
    settle(ws.landing / "a.csv", age=-3600)
    done = ws.run_process("--settle-seconds", "1")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert ws.landed() == []
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]


def test_winscp_filepart_is_in_flight(ws: Workspace, applications: Callable[..., str]) -> None:
    ws.land("upload.csv.filepart", applications(ANN))
    assert ws.run()[0] == 0
    assert ws.landed() == ["upload.csv.filepart"]


def visible(ws: Workspace) -> list[str]:
    """Every output a reader could see: outputs, reports, markers and quarantine reasons (the
    moved inputs in ``archive/`` and ``quarantine/`` are not outputs)."""
    outputs = ("successful", "unsuccessful", "reports", "committed")
    return sorted(
        str(p.relative_to(ws.output))
        for p in ws.output.rglob("*")
        if p.is_file()
        and p.relative_to(ws.output).parts[0] != "_state"
        and (p.relative_to(ws.output).parts[0] in outputs or p.name.endswith(".error.txt"))
    )


@pytest.mark.parametrize(
    "crash_at", ["after_manifest", "after_outputs", "after_commit", "after_moves"]
)
def test_nothing_is_visible_before_the_run_counts(
    ws: Workspace, applications: Callable[..., str], crash_at: str
) -> None:
    ws.land("a.csv", applications(ANN))
    ws.land("bad.csv", b"")
    killed = ws.run_process(env={"SHOPDATA_MEMBERS_CRASH_AT": crash_at})
    assert killed.returncode == -9
    assert visible(ws) == []
    assert find_member_files(ws.output) == []
    rerun = ws.run_process()
    rolled_forward = crash_at in ("after_commit", "after_moves")
    assert rerun.returncode == (0 if rolled_forward else 1)  # rolled forward: nothing new to do
    (marker,) = (ws.output / "committed").glob("*.json")
    run_id = marker.stem
    outputs = json.loads(marker.read_text())["outputs"]
    assert find_member_files(ws.output) == [ws.output / outputs["successful"]]
    assert len(ws.rows("successful")) == 1
    assert list((ws.output / "_state" / "staging").iterdir()) == []
    assert f"quarantine/{run_id}__bad.csv.error.txt" in visible(ws)


def test_loader_reads_only_runs_with_a_committed_marker(tmp_path: Path) -> None:
    for run in ("r1", "r2"):
        path = tmp_path / "successful" / "date=2026-01-01" / "hour=00" / f"successful_{run}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
    (tmp_path / "committed").mkdir()
    (tmp_path / "committed" / "r1.json").write_text(
        json.dumps(
            {"outputs": {"successful": "successful/date=2026-01-01/hour=00/successful_r1.csv"}}
        )
    )
    assert find_member_files(tmp_path) == [
        tmp_path / "successful/date=2026-01-01/hour=00/successful_r1.csv"
    ]


def test_recovery_removes_orphaned_temporary_files(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    state = ws.output / "_state"
    orphans = [
        state / "staging" / "20260101T000000.000000Z-dead01" / "successful" / ".s.csv.77.tmp",
        state / "pending" / ".20260101T000000.000000Z-dead02.json.78.tmp",
        state / "registry" / ".20260101T000000.000000Z-dead02.parquet.78.tmp",
    ]
    for orphan in orphans:
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_bytes(b"\0" * 4096)
    ws.land("a.csv", applications(ANN))
    report = run_in_process(ws)
    assert report.document.removed_orphans == [
        "_state/staging/20260101T000000.000000Z-dead01",
        "_state/pending/.20260101T000000.000000Z-dead02.json.78.tmp",
        "_state/registry/.20260101T000000.000000Z-dead02.parquet.78.tmp",
    ]
    assert not any(orphan.exists() for orphan in orphans)
    assert list((state / "staging").iterdir()) == []


def test_recovery_removes_orphans_outside_the_state_folder(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    """A run killed while copying an input into archive/ (another file system, or a producer's
    file) or writing its committed marker leaves a temporary file there, as large as the input."""
    dead = "20260101T000000.000000Z-dead03"
    orphans = [
        f"archive/date=2026-01-01/hour=00/run={dead}/.a.csv.79.tmp",
        f"committed/.{dead}.json.79.tmp",
        f"quarantine/.{dead}__bad.csv.79.tmp",
    ]
    kept = ["archive/date=2026-01-01/hour=00/run=x/.notes", "committed/.keep.tmp"]
    for relative in orphans + kept:
        path = ws.output / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\0" * 4096)
    ws.land("a.csv", applications(ANN))
    report = run_in_process(ws)
    assert report.document.removed_orphans == orphans[1:2] + orphans[:1] + orphans[2:]
    assert [relative for relative in orphans + kept if (ws.output / relative).exists()] == kept


def test_options_default_settle_is_zero_for_library_callers() -> None:
    assert RunOptions().settle_seconds == 0.0


def test_lines_a_writer_adds_after_archiving_are_read_from_the_archive(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    path = ws.land("slow.csv", applications(ANN))
    with path.open("a") as writer:  # a writer that keeps the file open across the run
        first = run_in_process(ws)
        assert ws.landed() == []
        writer.write(row(BEN))
    (archived,) = ws.files("archive")
    settle(ws.output / "archive" / archived)
    second = run_in_process(ws)
    (entry,) = second.document.files_detail
    assert (entry.name, entry.status, entry.rows, entry.moved_to) == (
        "slow.csv",
        "processed",
        1,
        f"archive/{archived}",
    )
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com", "ben@x.com"]
    assert ws.rows("unsuccessful") == []
    assert first.run_id in archived
    assert run_in_process(ws).run_id is None  # nothing new: the archive is not read again


# A small tmpfs as the output folder, in a private mount namespace (as root directly; as a normal
# user inside a user namespace where it is root): the disk really fills up.
MOUNT_NS = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "-U", "-r", "--mount"]
FULL_DISK = """
set -u
mount -t tmpfs -o size=512k tmpfs "$OUT"
"$PY" -m shopdata.cli members run --landing "$LANDING" --output "$OUT" -q
echo "rc=$?"
echo "left=$(find "$OUT/_state/staging" "$OUT/_state/pending" -type f | wc -l)"
mv "$LANDING/big.csv" "$ASIDE/big.csv"
"$PY" -m shopdata.cli members run --landing "$LANDING" --output "$OUT" -q
echo "rc=$?"
echo "successful=$(cat "$OUT"/successful/*/*/*.csv | wc -l)"
"""


def test_a_full_disk_is_reported_as_such_and_does_not_stay_full(
    ws: Workspace, applications: Callable[..., str], tmp_path: Path
) -> None:
    rows = [(f"P{i} Lee", f"p{i}@x.com", "1990-01-01", f"{10_000_000 + i}") for i in range(20_000)]
    ws.land("big.csv", applications(*rows))
    ws.land("small.csv", applications(ANN))
    ws.output.mkdir()
    aside = tmp_path / "aside"
    aside.mkdir()
    env = {
        **os.environ,
        "OUT": str(ws.output),
        "LANDING": str(ws.landing),
        "ASIDE": str(aside),
        "PY": sys.executable,
    }
    done = subprocess.run(
        [*MOUNT_NS, "sh", "-c", FULL_DISK], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stdout == "rc=4\nleft=0\nrc=0\nsuccessful=2\n", done.stderr
    assert done.stderr == (
        "Error: internal error: no space left on device; free space, then run again\n"
    )
    assert (aside / "big.csv").read_text() == applications(*rows)  # nothing lost


def test_a_run_crashed_under_the_previous_layout_is_rolled_back(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    # The previous version renamed outputs into place before its commit, and its manifest has no
    # "published" entry: an upgrade must still delete those outputs and redo the work.
    ws.land("a.csv", applications(ANN))
    run_id = "20260101T000000.000000Z-0ld000"
    stale = f"successful/date=2026-01-01/hour=00/successful_{run_id}.csv"
    (ws.output / stale).parent.mkdir(parents=True)
    (ws.output / stale).write_text("membership_id\nLee_d6165\n")
    pending = ws.output / "_state" / "pending"
    pending.mkdir(parents=True)
    (pending / f"{run_id}.json").write_text(
        json.dumps({"run_id": run_id, "landing": str(ws.landing), "outputs": [stale], "files": []})
    )
    report = run_in_process(ws)
    assert report.document.recovered_runs == [RecoveredRun(run_id=run_id, action="rolled back")]
    assert not (ws.output / stale).exists()
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]
