"""``apply_rules`` returns exactly the documented columns, with exact derived values.

Added for mutmut survivors in members/rules.py: the other rule tests compare only the reasons, so
a wrong birthday key (the input of the membership ID), a missing first name or a helper column
left in the output went unnoticed.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from shopdata.members.rules import apply_rules

ROWS = [
    ("Dr. Ann  Marie Lee Jr.", "Ann@Lee.COM", "07/15/1990", "8123 4567"),
    ("Bob", "bob@x.org", "", "1"),
    ("Cy Tan", "cy@tan.net", "2004-01-02", "81234567"),
    ("Di\tNg", "di@ng.com", None, "81234568"),
]


def test_every_column_and_value_of_the_rules_output() -> None:
    frame = pl.DataFrame(ROWS, schema=["name", "email", "date_of_birth", "mobile_no"], orient="row")
    result = apply_rules(
        frame, reference_date=dt.date(2022, 1, 1), minimum_age=18, email_suffixes=(".com", ".net")
    ).collect()
    assert result.columns == [
        "name",
        "email",
        "date_of_birth",
        "mobile_no",
        "birthday",
        "birthday_key",
        "mobile",
        "email_key",
        "first_name",
        "last_name",
        "above_18",
        "reasons",
    ]
    derived = result.select(
        "birthday",
        "birthday_key",
        "mobile",
        "email_key",
        "first_name",
        "last_name",
        "above_18",
        "reasons",
    ).rows()
    assert derived == [
        (dt.date(1990, 7, 15), "19900715", "81234567", "ann@lee.com", "Ann Marie", "Lee", True, ""),
        (
            None,
            None,
            None,
            "bob@x.org",
            "",
            "Bob",
            None,
            "mobile_invalid;date_of_birth_invalid;email_domain_not_allowed",
        ),
        (dt.date(2004, 1, 2), "20040102", "81234567", "cy@tan.net", "Cy", "Tan", False, "under_18"),
        (None, None, "81234568", "di@ng.com", "Di", "Ng", None, "date_of_birth_invalid"),
    ]
