"""Issue 11, items 1-3: a hostile landing folder never makes the pipeline read or leak anything."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shopdata.cli import app

Workspace = Any  # see conftest.py

ANN = ("Ann Lee", "ann@x.com", "1990-01-01", "12345678")
SECRET = "TOPSECRET-7f3a9"
LINK_REASON = "not_regular_file: a symbolic link; the pipeline never opens or follows it"


def report_of(ws: Workspace) -> dict[str, Any]:
    path = sorted((ws.output / "reports").glob("date=*/hour=*/run_*.json"))[-1]
    return dict(json.loads(path.read_text()))


def everything_written(ws: Workspace) -> bytes:
    """Every byte of every regular file the pipeline wrote (bookkeeping database included)."""
    return b"".join(
        path.read_bytes()
        for path in sorted(ws.output.rglob("*"))
        if path.is_file() and not path.is_symlink()
    )


def test_symlink_to_a_secret_is_quarantined_unread(
    ws: Workspace, applications: Callable[..., str], tmp_path: Path
) -> None:
    secret = tmp_path / "shadow"
    secret.write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
    (ws.landing / "x.csv").symlink_to(secret)
    ws.land("good.csv", applications(ANN))
    code, stdout, stderr = ws.run()
    assert (code, stdout, stderr) == (1, "", "")
    report = report_of(ws)
    (entry,) = [f for f in report["files_detail"] if f["name"] == "x.csv"]
    assert (entry["status"], entry["error"]) == ("quarantined", LINK_REASON)
    run_id = report["run_id"]
    moved = ws.output / "quarantine" / f"{run_id}__x.csv"
    assert moved.is_symlink() and os.readlink(moved) == str(secret)  # the link, not its target
    assert (ws.output / "quarantine" / f"{run_id}__x.csv.error.txt").read_text() == (
        LINK_REASON + "\n"
    )
    assert SECRET.encode() not in everything_written(ws)
    assert secret.read_text() == f"root:{SECRET}:19000:0:99999:7:::\n"  # untouched
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]


def test_link_to_proc_environ_leaks_nothing(ws: Workspace) -> None:
    (ws.landing / "env.csv").symlink_to("/proc/self/environ")
    done = ws.run_process(env={"DATABASE_URL": f"postgresql://u:{SECRET}@db/x"})
    assert (done.returncode, done.stdout, done.stderr) == (1, "", "")
    assert SECRET.encode() not in everything_written(ws)
    assert [f["error"] for f in report_of(ws)["files_detail"]] == [LINK_REASON]


def test_link_to_a_valid_csv_outside_is_not_processed(
    ws: Workspace, applications: Callable[..., str], tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(applications(ANN))
    (ws.landing / "a.csv").symlink_to(outside)
    assert ws.run()[0] == 1
    assert ws.rows("successful") == []
    assert outside.read_text() == applications(ANN)  # still there, never archived
    assert ws.files("archive") == []


def test_fifo_socket_and_subfolder(ws: Workspace, applications: Callable[..., str]) -> None:
    os.mkfifo(ws.landing / "pipe.csv")
    (ws.landing / "folder.csv").mkdir()
    (ws.landing / "folder.csv" / "inner.csv").write_text(applications(ANN))
    ws.land("good.csv", applications(ANN))
    done = ws.run_process()  # a FIFO opened for reading would block forever: it is never opened
    assert (done.returncode, done.stderr) == (1, "")
    report = report_of(ws)
    assert {f["name"]: (f["status"], f.get("error")) for f in report["files_detail"]} == {
        "good.csv": ("processed", None),
        "pipe.csv": (
            "quarantined",
            "not_regular_file: a FIFO; the pipeline never opens or follows it",
        ),
    }
    assert ws.landed() == ["folder.csv"]  # sub-folders are left alone
    run_id = report["run_id"]
    assert stat.S_ISFIFO(os.lstat(ws.output / "quarantine" / f"{run_id}__pipe.csv").st_mode)


def test_missing_column_message_is_bounded_and_escaped(ws: Workspace) -> None:
    columns = ["name", "email", "mobile_no", "\x1b[31mred", *(f"c{i}" for i in range(150))]
    ws.land("h.csv", ",".join(columns) + "\nAnn,a@x.com,12345678" + ",1" * 151 + "\n")
    assert ws.run()[0] == 1
    (entry,) = report_of(ws)["files_detail"]
    full = ", ".join(columns)
    shown = full.replace("\x1b", "\\x1b")[:200]
    assert (len(full), shown[:40]) == (822, "name, email, mobile_no, \\x1b[31mred, c0,")
    assert entry["error"] == (
        "missing_columns: missing required column(s): date_of_birth "
        f"(header: {shown}... (822 characters))"
    )
    assert "\x1b" not in json.dumps(report_of(ws), ensure_ascii=False)


def modes(root: Path) -> dict[str, set[str]]:
    """Permission bits of every file and folder under ``root`` (itself included)."""
    seen: dict[str, set[str]] = {"files": set(), "folders": {oct(root.stat().st_mode & 0o777)}}
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        kind = "folders" if path.is_dir() else "files"
        seen[kind].add(oct(path.stat().st_mode & 0o777))
    return seen


def umask_zero_run(ws: Workspace, env: dict[str, str] | None = None) -> int:
    code = "import os, runpy, sys; os.umask(0); sys.argv[0] = 'shopdata'; "
    code += "runpy.run_module('shopdata.cli', run_name='__main__')"
    done = subprocess.run(
        [sys.executable, "-c", code, *ws.args("--quiet")],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode


def test_outputs_are_not_world_readable_whatever_the_umask(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("good.csv", applications(ANN, ("Bad", "bad", "x", "1")))
    ws.land("empty.csv", b"")
    assert umask_zero_run(ws) == 1
    assert modes(ws.output) == {"files": {"0o640"}, "folders": {"0o750"}}


def test_modes_are_configurable(ws: Workspace, applications: Callable[..., str]) -> None:
    ws.land("good.csv", applications(ANN))
    env = {"SHOPDATA_MEMBERS__FILE_MODE": "384", "SHOPDATA_MEMBERS__DIR_MODE": "448"}
    assert umask_zero_run(ws, env) == 0
    assert modes(ws.output) == {"files": {"0o600"}, "folders": {"0o700"}}


@pytest.mark.parametrize("kind", ["unreadable", "landing_read_only"])
def test_permission_problems(ws: Workspace, applications: Callable[..., str], kind: str) -> None:
    ws.land("good.csv", applications(ANN))
    if kind == "unreadable":
        ws.land("locked.csv", applications(ANN)).chmod(0)
        done = ws.run_process(unprivileged=True)
        assert (done.returncode, done.stderr) == (1, "")
        (entry,) = [f for f in report_of(ws)["files_detail"] if f["name"] == "locked.csv"]
        assert entry["error"] == "unreadable: cannot open: Permission denied"
        assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]
        assert ws.landed() == []
    else:
        ws.landing.chmod(0o555)
        try:
            done = ws.run_process(unprivileged=True)
        finally:
            ws.landing.chmod(0o755)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == (
            f"Error: landing folder {ws.landing} does not let this user move files out of it "
            "(it needs read, write and search permission); nothing was done\n"
        )
        assert not ws.output.exists()
        assert ws.landed() == ["good.csv"]


def test_hard_link_to_a_secret_is_quarantined_unread_and_its_mode_kept(
    ws: Workspace, applications: Callable[..., str], tmp_path: Path
) -> None:
    secret = tmp_path / "id_rsa"
    secret.write_text(f"{SECRET},key\n")
    secret.chmod(0o600)
    os.utime(secret, (0, 0))  # long settled
    os.link(secret, ws.landing / "x.csv")
    ws.land("good.csv", applications(ANN))
    code, stdout, stderr = ws.run()
    assert (code, stdout, stderr) == (1, "", "")
    report = report_of(ws)
    (entry,) = [f for f in report["files_detail"] if f["name"] == "x.csv"]
    reason = (
        "not_regular_file: a hard link (2 names for one file); "
        "the pipeline never opens or follows it"
    )
    assert (entry["status"], entry["error"]) == ("quarantined", reason)
    assert (ws.output / "quarantine" / f"{report['run_id']}__x.csv.error.txt").read_text() == (
        reason + "\n"
    )
    moved = ws.output / "quarantine" / f"{report['run_id']}__x.csv"
    assert moved.stat().st_ino == secret.stat().st_ino  # the name moved, as it was
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600  # the other name's mode is not widened
    moved.unlink()
    assert SECRET.encode() not in everything_written(ws)  # nothing of it copied anywhere
    assert ws.landed() == []
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]


def test_files_owned_by_a_producer_are_archived_0640_by_an_unprivileged_pipeline(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    """A shared landing folder: producers own their files, which the pipeline cannot chmod."""
    producer = 65534  # nobody
    ws.landing.chmod(0o1777)
    for name, row in (("a.csv", ANN), ("b.csv", ("Bo Tan", "bo@x.com", "1980-02-02", "87654321"))):
        path = ws.land(name, applications(row))
        path.chmod(0o644)
        os.chown(path, producer, producer)
        os.utime(path, (0, 0))  # long settled
    done = ws.run_process(unprivileged=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert ws.landed() == []
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com", "bo@x.com"]
    archived = sorted((ws.output / "archive").glob("date=*/hour=*/run=*/*.csv"))
    assert [p.name for p in archived] == ["a.csv", "b.csv"]
    for path in archived:
        info = path.stat()
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o640, os.geteuid())
    again = ws.run_process(unprivileged=True)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")


def test_sticky_landing_folder_of_another_user_is_a_usage_error(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    """In a ``chmod 1777`` folder owned by someone else only a file's owner may move it out."""
    path = ws.land("good.csv", applications(ANN))
    os.chown(path, 65533, 65533)
    os.chown(ws.landing, 65534, 65534)
    ws.landing.chmod(0o1777)
    done = ws.run_process(unprivileged=True)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"Error: landing folder {ws.landing} has the sticky bit and belongs to another user, so "
        "this user cannot move other users' files out of it; nothing was done\n"
    )
    assert not ws.output.exists()
    assert ws.landed() == ["good.csv"]


def test_file_names_are_shown_as_they_are_not_as_console_markup(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    """A name like ``[white on white]x.csv`` must not restyle or hide itself on the console."""
    ws.land("[bold]evil.csv", applications(ANN))
    result = CliRunner().invoke(app, ws.args(), env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "[1/1] reading [bold]evil.csv\n" in result.stderr
    assert "│ [bold]evil.csv │ processed │" in result.stdout


def test_a_landed_file_named_like_an_error_file_is_not_overwritten(ws: Workspace) -> None:
    ws.land("a.csv", "name,email,date_of_birth,mobile_no\n")
    ws.land("a.csv.error.txt", b"PRECIOUS DATA\xff\n")
    code, stdout, stderr = ws.run()
    assert (code, stdout, stderr) == (1, "", "")
    run_id = report_of(ws)["run_id"]
    quarantine = {
        path.name.removeprefix(f"{run_id}__"): path.read_bytes()
        for path in (ws.output / "quarantine").iterdir()
    }
    assert quarantine == {
        "a.csv": b"name,email,date_of_birth,mobile_no\n",
        "a.csv.error.txt": b"header_only: file has a header but no data rows\n",
        "a.csv.error.txt~2": b"PRECIOUS DATA\xff\n",
        "a.csv.error.txt~2.error.txt": b"not_utf8: not UTF-8: invalid byte 0xff at offset 13\n",
    }


def test_lone_crs_among_lf_line_ends_quarantine_the_file_not_the_batch(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    """A broken export mixing lone CRs with LFs crashed every run (exit 4) for good."""
    ws.land("bad1.csv", b"name,email,date_of_birth,mobile_no,x\r,\n")
    ws.land("bad2.csv", b'\rname,email,date_of_birth,mobile_no,x\n,\r1"a\n')
    ws.land("mixed.csv", b"name,email,date_of_birth,mobile_no\rA B,a@x.com,1990-01-01,1\r\n")
    ws.land("good.csv", applications(ANN))
    code, stdout, stderr = ws.run()
    assert (code, stdout, stderr) == (1, "", "")
    errors = {f["name"]: f.get("error") for f in report_of(ws)["files_detail"]}
    assert errors == {
        "bad1.csv": "ragged_rows: ragged rows: 1 record(s) do not have the header's 5 fields; "
        "the first is at line 2 with 2",
        "bad2.csv": "missing_columns: missing required column(s): name, email, date_of_birth, "
        "mobile_no (header: )",
        "good.csv": None,
        "mixed.csv": None,  # read as the CSV parser reads it: a lone CR ends a line
    }
    assert [r["email"] for r in ws.rows("successful")] == ["ann@x.com"]
    assert [
        (r["source_file"], r["line_number"], r["reasons"]) for r in ws.rows("unsuccessful")
    ] == [("mixed.csv", "2", "mobile_invalid")]
    assert ws.landed() == []
