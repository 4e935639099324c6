"""The pipeline's escaping survives the trip pipeline -> CSV -> loader -> database (issue 19).

``members run`` quotes every cell a spreadsheet would execute (a first character in
``contract.FORMULA_TRIGGERS``, or a quote); ``db load-members`` must undo exactly that, in every
column, with the contract's own functions. The loader used to type its own header and unescape
names only, so ``+promo@example.com`` reached the database as ``'+promo@example.com``.

Which columns can carry a trigger is the pipeline's business: names and emails can (an email
cannot start with ``@``); the membership ID is built from the cleaned last name, the mobile number
is 8 digits, the birth date ``YYYYMMDD`` and ``above_18`` a boolean, so those never start with
one, and tab or CR never survive the name and email rules. Every column is compared anyway; the
escaping itself is checked for every trigger, tab and CR included, in ``test_escaping_*``.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import psycopg
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from shopdata.cli import app
from shopdata.members.contract import (
    FORMULA_ESCAPE,
    FORMULA_TRIGGERS,
    SUCCESSFUL_COLUMNS,
    escape_cell,
    unescape_cell,
)
from shopdata.members.write import defuse_formulas
from shopdata.salesdb.members_loader import HEADER

#: Every first character that the output escapes and a name or an email can start with.
STARTS = ("=", "+", "-", "@", FORMULA_ESCAPE)


def _applications() -> list[tuple[str, str, str, str]]:
    rows = []
    for n, start in enumerate(STARTS, start=1):
        email = f"{start}promo{n}@example.com" if start != "@" else f"promo{n}@example.com"
        rows.append((f"{start}Ann {start}Lee", email, f"1990-01-0{n}", f"9123456{n}"))
    return rows


def test_every_escaped_column_arrives_in_the_database_as_the_applicant_wrote_it(
    db_env: str, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    with (landing / "hostile.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "date_of_birth", "mobile_no"])
        writer.writerows(_applications())
    run = CliRunner().invoke(
        app,
        ["members", "run", "--landing", str(landing), "--output", str(tmp_path / "out"),
         "--settle-seconds", "0", "--reference-date", "2024-03-01", "--quiet"],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    (written,) = (tmp_path / "out").glob("successful/*/*/*.csv")
    with written.open(newline="", encoding="utf-8") as handle:
        header, *cells = list(csv.reader(handle))
    assert tuple(header) == SUCCESSFUL_COLUMNS
    # The file is escaped (a spreadsheet runs none of it): names and emails carry the quote.
    assert [(r[1], r[2], r[3]) for r in cells] == [
        ("'=Ann", "'=Lee", "'=promo1@example.com"),
        ("'+Ann", "'+Lee", "'+promo2@example.com"),
        ("'-Ann", "'-Lee", "'-promo3@example.com"),
        ("'@Ann", "'@Lee", "promo4@example.com"),
        ("''Ann", "''Lee", "''promo5@example.com"),
    ]

    loaded = CliRunner().invoke(app, ["db", "load-members", str(tmp_path / "out")])
    assert (loaded.exit_code, loaded.stdout) == (
        0,
        "members: 5 new, 0 already present (5 rows in 1 files)\n",
    )
    with psycopg.connect(db_env) as conn:
        rows = conn.execute(
            "select membership_id, first_name, last_name, email, mobile_no,"
            " to_char(date_of_birth, 'YYYYMMDD'), above_18::text from sales.members"
            " order by mobile_no"
        ).fetchall()
    # Every column is the written cell unescaped, by the contract's function ...
    assert rows == [tuple(unescape_cell(c) for c in row) for row in cells]
    # ... which is what the applicant typed, for the columns that can carry a trigger.
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("=Ann", "=Lee", "=promo1@example.com"),
        ("+Ann", "+Lee", "+promo2@example.com"),
        ("-Ann", "-Lee", "-promo3@example.com"),
        ("@Ann", "@Lee", "promo4@example.com"),
        ("'Ann", "'Lee", "'promo5@example.com"),
    ]
    assert [r[0] for r in rows] == [c[0] for c in cells]  # IDs never start with a trigger
    assert all(r[0].startswith("Lee_") for r in rows)
    assert [(r[4], r[5], r[6]) for r in rows] == [
        (f"9123456{n}", f"1990010{n}", "true") for n in range(1, 6)
    ]


def test_the_loader_reads_the_contract_header() -> None:
    assert tuple(HEADER) == SUCCESSFUL_COLUMNS


@given(st.text())
def test_escaping_is_reversible_and_defuses_every_trigger(value: str) -> None:
    escaped = escape_cell(value)
    assert unescape_cell(escaped) == value
    assert not escaped.startswith(FORMULA_TRIGGERS)


def test_escaping_every_trigger_tab_and_cr_included() -> None:
    for start in (*FORMULA_TRIGGERS, FORMULA_ESCAPE):
        value = f"{start}x"
        assert escape_cell(value) == f"'{start}x"
        assert unescape_cell(escape_cell(value)) == value
    assert escape_cell("plain") == "plain"
    assert escape_cell("") == ""


@given(st.lists(st.text(), min_size=1, max_size=20))
def test_the_writer_escapes_exactly_as_the_contract_says(values: list[str]) -> None:
    frame = pl.DataFrame({"a": values, "b": list(reversed(values))})
    defused = defuse_formulas(frame)
    assert defused["a"].to_list() == [escape_cell(v) for v in values]
    assert defused["b"].to_list() == [escape_cell(v) for v in reversed(values)]


def test_a_date_column_is_left_alone() -> None:
    frame = pl.DataFrame({"d": [dt.date(2024, 3, 1)], "s": ["-1"]})
    assert defuse_formulas(frame).rows() == [(dt.date(2024, 3, 1), "'-1")]
