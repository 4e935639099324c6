"""Issue 11, items 7-10: delivered IDs unique as written, extra columns in their own namespace,
``duplicate_of`` naming an earlier application, control characters and one-word names."""

from __future__ import annotations

import csv
from collections import Counter
from typing import Any

import pytest

from shopdata.salesdb.members_loader import HEADER, _rows

Workspace = Any  # see conftest.py

HEADER_LINE = "name,email,date_of_birth,mobile_no\n"


def test_formula_like_last_names_get_distinct_delivered_ids(ws: Workspace) -> None:
    ws.land(
        "a.csv",
        HEADER_LINE
        + "Ann =Smith,ann@x.com,1990-01-01,12345678\n"
        + "Bo '=Smith,bo@x.com,1990-01-01,12345678\n",
    )
    assert ws.run()[0] == 0
    ws.land("b.csv", HEADER_LINE + "Cy '=Smith,cy@x.com,1990-01-01,12345678\n")
    ws.land("c.csv", HEADER_LINE + "Di Smith,di@x.com,1990-01-01,12345678\n")
    assert ws.run()[0] == 0
    delivered = [(r["membership_id"], r["last_name"]) for r in ws.rows("successful")]
    assert delivered == [
        ("Smith_d6165", "'=Smith"),
        ("Smith_d6165_2", "''=Smith"),
        ("Smith_d6165_3", "''=Smith"),
        ("Smith_d6165_4", "Smith"),
    ]
    assert len({d[0] for d in delivered}) == 4


@pytest.mark.parametrize(
    ("last_name", "stem"),
    [("-", "member"), ("@@Lee", "Lee"), ("+'Lee", "Lee"), ("O'Brien", "O'Brien")],
)
def test_id_stem_rule(ws: Workspace, last_name: str, stem: str) -> None:
    ws.land("a.csv", HEADER_LINE + f"Ann {last_name},ann@x.com,1990-01-01,12345678\n")
    assert ws.run()[0] == 0
    (member,) = ws.rows("successful")
    assert member["membership_id"] == f"{stem}_d6165"


RESERVED = [
    "birthday_key",
    "owner",
    "first_name",
    "mobile",
    "membership_id",
    "birthday",
    "duplicate_of",
    "derived_first_name",
    "line_number",
    "source_file",
    "reasons",
    "email_key",
    "last_name",
    "above_18",
]


@pytest.mark.parametrize("column", RESERVED)
def test_extra_columns_never_touch_derived_ones(ws: Workspace, column: str) -> None:
    ws.land(
        "a.csv",
        f"name,email,date_of_birth,mobile_no,{column}\n"
        "Ann Lee,ann@x.com,1990-01-01,12345678,19991231\n"
        "Bo Tan,bad,1990-01-01,12345678,Zed_00000\n"
        "Cy Lee,ann@x.com,1990-01-01,12345678,zz\n",
    )
    assert ws.run() == (0, "", "")
    assert ws.rows("successful") == [
        {
            "membership_id": "Lee_d6165",
            "first_name": "Ann",
            "last_name": "Lee",
            "email": "ann@x.com",
            "mobile_no": "12345678",
            "date_of_birth": "19900101",
            "above_18": "true",
        }
    ]
    rows = ws.rows("unsuccessful")
    assert [
        (r["line_number"], r["reasons"], r["duplicate_of"], r[f"extra_{column}"]) for r in rows
    ] == [
        ("3", "email_invalid", "", "Zed_00000"),
        ("4", "duplicate_application", "Lee_d6165", "zz"),
    ]
    assert [r["source_file"] for r in rows] == ["a.csv", "a.csv"]
    assert [r["derived_first_name"] for r in rows] == ["Bo", "Cy"]


def test_duplicate_of_names_only_an_earlier_application(ws: Workspace) -> None:
    ws.land(
        "a.csv",
        HEADER_LINE
        + "Ann Lee,ann@x.com,bad-date,12345678\n"  # invalid, before the valid one
        + "Ann Lee,ann@x.com,1990-01-01,12345678\n"
        + "Ann Lee,ann@x.com,1990-01-01,1\n",  # invalid, after it
    )
    ws.land("b.csv", HEADER_LINE + "Ann Lee,ANN@x.com,bad,1\n")
    assert ws.run()[0] == 0
    assert [
        (r["source_file"], r["line_number"], r["reasons"], r["duplicate_of"])
        for r in ws.rows("unsuccessful")
    ] == [
        ("a.csv", "2", "date_of_birth_invalid", ""),
        ("a.csv", "4", "mobile_invalid;duplicate_application", "Lee_d6165"),
        (
            "b.csv",
            "2",
            "mobile_invalid;date_of_birth_invalid;duplicate_application",
            "Lee_d6165",
        ),
    ]


@pytest.mark.parametrize(
    "name", ["Ann\x00 Lee", "\x1b[31mAnn\x1b[0m Lee", "Ann Lee\x7f", "Ann\x85Lee"]
)
def test_control_characters_fail_name_invalid(ws: Workspace, name: str) -> None:
    ws.land("a.csv", HEADER_LINE.encode() + f'"{name}",a@x.com,1990-01-01,12345678\n'.encode())
    assert ws.run()[0] == 0
    assert ws.rows("successful") == []
    (row,) = ws.rows("unsuccessful")
    assert row["reasons"] == "name_invalid"


def test_a_one_word_name_is_a_member_the_loader_accepts(ws: Workspace) -> None:
    ws.land("a.csv", HEADER_LINE + "Madonna,m@x.com,1990-01-01,12345678\n")
    assert ws.run()[0] == 0
    (member,) = ws.rows("successful")
    assert (member["first_name"], member["last_name"], member["membership_id"]) == (
        "",
        "Madonna",
        "Madonna_d6165",
    )
    (path,) = sorted((ws.output / "successful").glob("*/*/*.csv"))
    with path.open(newline="", encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == HEADER
    assert list(_rows(path, "x")) == [
        ["Madonna_d6165", "", "Madonna", "m@x.com", "12345678", "19900101", "true"]
    ]


def test_ids_unique_in_a_mixed_batch(ws: Workspace) -> None:
    names = ["=Lee", "'=Lee", "Lee", "+Lee", "-Lee", "@Lee", "''Lee"]
    ws.land(
        "a.csv",
        HEADER_LINE
        + "".join(f"A {n},p{i}@x.com,1990-01-01,12345678\n" for i, n in enumerate(names)),
    )
    assert ws.run()[0] == 0
    ids = Counter(r["membership_id"] for r in ws.rows("successful"))
    assert sorted(ids) == ["Lee_d6165"] + [f"Lee_d6165_{n}" for n in range(2, 8)]
