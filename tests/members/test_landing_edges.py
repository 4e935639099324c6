"""Two promises of the landing folder (docs/members.md) that no test exercised before.

* Write, then rename: a file whose name starts with ``.`` or ends in ``.tmp``, ``.part``,
  ``.partial`` or ``.crdownload`` (any case) is still being written and is left alone, byte for
  byte, until the producer renames it.
* A processed file is moved into the output's archive, also when the landing folder is on
  another file system (``/dev/shm`` is tmpfs; the output is on the test's disk): the rename
  fails with EXDEV there and the file is copied, made durable, then removed from the landing.

Both through the real CLI, reading its JSON report and the real files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopdata.cli import app

from .conftest import settle

HEADER = "name,email,date_of_birth,mobile_no\n"
ROW = "Ann Lee,ann@lee.com,1990-01-01,81234567\n"
IN_FLIGHT = (
    "b.csv.tmp",
    "c.csv.part",
    "d.csv.partial",
    "e.csv.crdownload",
    "f.csv.CRDOWNLOAD",
    "g.csv.Partial",
    ".h.csv",
)


def run(landing: Path, output: Path) -> tuple[int, dict[str, object]]:
    # No settling wait: files just written are taken at once, so only their names (the
    # in-flight suffixes) can keep a run away from them.
    result = CliRunner().invoke(
        app,
        [
            "members",
            "run",
            "--json",
            "--settle-seconds",
            "0",
            "--landing",
            str(landing),
            "--output",
            str(output),
        ],
    )
    return result.exit_code, json.loads(result.stdout)


def test_files_still_being_written_are_left_alone_until_renamed(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(HEADER + ROW, encoding="utf-8")
    settle(landing / "a.csv")  # older than the settle window: a finished file
    for number, name in enumerate(IN_FLIGHT):
        # Half-written content: a header and a cut-off row (quarantined if it were read).
        (landing / name).write_bytes(f"{HEADER}Bob {number},bob{number}@x.com,19".encode())
        # Old enough to pass the settle window: only the suffix may keep them waiting.
        settle(landing / name)
    before = {name: (landing / name).read_bytes() for name in IN_FLIGHT}

    code, report = run(landing, tmp_path / "out")
    assert code == 0
    assert [f["name"] for f in report["files_detail"]] == ["a.csv"]  # type: ignore[index]
    assert report["totals"]["rows_in"] == 1  # type: ignore[index]
    assert sorted(p.name for p in landing.iterdir()) == sorted(IN_FLIGHT)
    assert {name: (landing / name).read_bytes() for name in IN_FLIGHT} == before

    # The producer finishes b.csv and renames it: the next run takes it, and only it.
    (landing / "b.csv.tmp").write_text(HEADER + "Bob Tan,bob@tan.com,1991-02-03,81234568\n")
    (landing / "b.csv.tmp").rename(landing / "b.csv")
    settle(landing / "b.csv")
    code, report = run(landing, tmp_path / "out")
    assert code == 0
    assert [f["name"] for f in report["files_detail"]] == ["b.csv"]  # type: ignore[index]
    assert report["totals"]["successful"] == 1  # type: ignore[index]
    assert "b.csv" not in {p.name for p in landing.iterdir()}


@pytest.fixture
def other_file_system() -> Iterator[Path]:
    """A folder on tmpfs (/dev/shm), present on every Linux machine and CI container."""
    folder = Path(tempfile.mkdtemp(prefix="shopdata-landing-", dir="/dev/shm"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_landing_folder_on_another_file_system_is_archived_by_copy(
    other_file_system: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    output.mkdir()
    assert os.stat(other_file_system).st_dev != os.stat(output).st_dev, (
        "the test needs /dev/shm and the temporary folder on different file systems"
    )
    content = (HEADER + ROW).encode()
    (other_file_system / "a.csv").write_bytes(content)
    settle(other_file_system / "a.csv")

    code, report = run(other_file_system, output)
    assert code == 0
    (detail,) = report["files_detail"]  # type: ignore[misc]
    assert detail["status"] == "processed"
    archived = output / detail["moved_to"]
    assert archived.read_bytes() == content
    assert list(other_file_system.iterdir()) == []
    assert not list(archived.parent.glob("*.tmp*")), "the copy's temporary file was left behind"

    # The archived file is known: landing the same bytes again is a duplicate, not a new file.
    (other_file_system / "again.csv").write_bytes(content)
    settle(other_file_system / "again.csv")
    code, report = run(other_file_system, output)
    assert report["totals"]["files_duplicate"] == 1  # type: ignore[index]
