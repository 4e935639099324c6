"""Formula escaping scans only the columns that can start a formula (issue 14).

The pipeline names as ``safe`` the columns it derives from digits, reason codes and IDs; every
other string column is still escaped, and the delivered outputs never hold an unescaped formula.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from shopdata.members.pipeline import RuleConfig, run_pipeline
from shopdata.members.write import defuse_formulas


def test_safe_columns_are_not_scanned_and_the_others_are_escaped() -> None:
    frame = pl.DataFrame({"code": ["=1", "2"], "name": ["=cmd", "Ann"], "n": [1, 2]})
    assert defuse_formulas(frame, safe=("code",)).rows() == [("=1", "'=cmd", 1), ("2", "Ann", 2)]
    assert defuse_formulas(frame).rows() == [("'=1", "'=cmd", 1), ("2", "Ann", 2)]
    assert defuse_formulas(frame, safe=("code", "name")).equals(frame)


def test_no_delivered_cell_starts_a_formula(tmp_path: Path) -> None:
    landing = tmp_path / "in"
    landing.mkdir()
    (landing / "a.csv").write_text(
        "name,email,date_of_birth,mobile_no,note\n"
        "Ann =Lee,ann@x.com,1990-01-01,12345678,+sum\n"  # note: not delivered (successful)
        "@Bo Tan,bo@x.com,1990-01-01,1234,-1\n"
        "Cy Ng,cy@x.com,=1990,+6512345678,@x\n",
        encoding="utf-8",
    )
    report = run_pipeline(landing, tmp_path / "out", RuleConfig())
    assert (report.document.totals.successful, report.document.totals.unsuccessful) == (1, 2)
    cells = [
        cell
        for path in sorted((tmp_path / "out").rglob("*successful_*.csv"))
        for row in pl.read_csv(path, infer_schema=False).rows()
        for cell in row
        if cell
    ]
    assert [c for c in cells if c[0] in "=+-@\t\r"] == []
    assert {"'=Lee", "'-1", "'@Bo Tan", "'=1990", "'+6512345678", "'@x"} <= set(cells)
