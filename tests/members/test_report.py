"""The run report is one typed model: it writes the report file and ``--json``, and reads both back."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shopdata.members.report import FileDetail, Outputs, RunDocument, Totals

Workspace = Any  # see conftest.py

ANN = ("Ann Lee", "ann@x.com", "1990-01-01", "12345678")
BOB = ("Bob Tan", "bob@x.org", "1990-01-01", "12345678")


def _report_path(ws: Workspace) -> Path:
    (path,) = (ws.output / "reports").glob("date=*/hour=*/run_*.json")
    return Path(path)


def test_report_file_and_json_output_read_back_into_the_same_document(
    ws: Workspace, applications: Callable[..., str]
) -> None:
    ws.land("a.csv", applications(ANN, BOB))
    ws.land("bad.csv", "not,a,header\n1,2,3\n")
    code, stdout, stderr = ws.run("--json")
    assert (code, stderr) == (1, "")  # bad.csv went to quarantine

    path = _report_path(ws)
    written = json.loads(path.read_text(encoding="utf-8"))
    document = RunDocument.read(path)
    assert document.to_json() == written  # what is read writes the same JSON again
    printed = json.loads(stdout)
    assert printed == {**written, "left_in_landing": []}  # --json: the file plus what was left
    assert RunDocument.model_validate(printed).left_in_landing == []

    assert document.totals == Totals(
        files=2,
        files_processed=1,
        files_quarantined=1,
        files_duplicate=0,
        rows_in=2,
        successful=1,
        unsuccessful=1,
        duplicate_applications=0,
    )
    assert document.unsuccessful_by_reason == {"email_domain_not_allowed": 1}
    assert document.files_needing_attention == 1
    assert document.outputs == Outputs.model_validate(written["outputs"])
    processed, quarantined = document.files_detail
    assert (processed.name, processed.rows, processed.successful, processed.unsuccessful) == (
        "a.csv",
        2,
        1,
        1,
    )
    assert (quarantined.name, quarantined.status, quarantined.rows) == (
        "bad.csv",
        "quarantined",
        None,
    )
    assert quarantined.error is not None and quarantined.error.startswith("missing_columns")
    # Only the fields that apply are written: no counts for a quarantined file, no error for a
    # processed one (as before the report was typed).
    assert set(written["files_detail"][0]) == {
        "name",
        "sha256",
        "status",
        "moved_to",
        "rows",
        "successful",
        "unsuccessful",
    }
    assert set(written["files_detail"][1]) == {"name", "sha256", "status", "moved_to", "error"}
    assert "left_in_landing" not in written  # written before the inputs were moved


def test_a_run_with_nothing_to_do_writes_its_totals_only(ws: Workspace) -> None:
    code, stdout, stderr = ws.run("--json")
    assert (code, stderr) == (0, "")
    assert json.loads(stdout) == {
        "totals": {"files": 0},
        "recovered_runs": [],
        "removed_orphans": [],
    }
    assert RunDocument.model_validate_json(stdout).totals.files == 0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"totals": {"files": "two"}}, "totals.files"),
        ({"surprise": 1}, "surprise"),
        ({"files_detail": [{"name": "a.csv"}]}, "files_detail.0.sha256"),
    ],
)
def test_a_report_that_does_not_match_the_model_is_refused(
    tmp_path: Path, change: dict[str, object], problem: str
) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"run_id": "r1", **change}), encoding="utf-8")
    with pytest.raises(ValidationError) as raised:
        RunDocument.read(path)
    assert problem in str(raised.value)


def test_file_detail_fields_set_after_creation_are_written() -> None:
    detail = FileDetail(name="a.csv", sha256="00", status="processed", moved_to="archive/a.csv")
    detail.rows = 3
    assert RunDocument(files_detail=[detail]).to_json() == {
        "files_detail": [
            {
                "name": "a.csv",
                "sha256": "00",
                "status": "processed",
                "moved_to": "archive/a.csv",
                "rows": 3,
            }
        ]
    }
