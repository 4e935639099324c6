"""Control characters in names, the switch that skips that scan, and the earliest birthday.

Added for mutmut survivors in members/rules.py: ``name_invalid`` was checked only by the pipeline
and landing tests (too slow to run per mutant), never by the rule tests; no rule test called
``apply_rules(check_name_controls=False)``; and no test gave the earliest accepted birthday,
1 January 1900, itself.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from shopdata.members.rules import apply_rules, name_has_control, parse_date_of_birth

GOOD = ("ann@lee.com", "1990-07-15", "81234567")
"""An e-mail address, birthday and mobile number that pass every rule."""


def reasons(names: list[str], **options: bool) -> list[str]:
    frame = pl.DataFrame(
        [(name, *GOOD) for name in names],
        schema=["name", "email", "date_of_birth", "mobile_no"],
        orient="row",
    )
    result = apply_rules(
        frame,
        reference_date=dt.date(2022, 1, 1),
        minimum_age=18,
        email_suffixes=(".com",),
        **options,
    ).collect()
    return result["reasons"].to_list()


NAMES = [
    "Ann Lee",  # plain
    "Ann\tLee",  # tab: white space, collapsed
    "Ann\nLee",  # line feed: white space
    "Ann\x00Lee",  # NUL: PostgreSQL cannot store it
    "Ann \x1b[31mLee",  # ESC of an ANSI colour sequence
    "Ann Lee\x7f",  # DEL
    "Ann\x85Lee",  # C1 next line
    "Ann\x9bLee",  # C1 control sequence introducer
]


def test_a_name_with_a_control_character_is_invalid() -> None:
    assert reasons(NAMES) == ["", "", "", *["name_invalid"] * 5]


def test_the_control_scan_can_be_skipped_and_then_reports_nothing() -> None:
    # the caller promises no control characters: the scan is skipped, and no other rule fails
    assert reasons(NAMES, check_name_controls=False) == [""] * len(NAMES)
    assert reasons(NAMES, check_name_controls=True) == reasons(NAMES)


def test_name_has_control_is_true_only_for_control_characters() -> None:
    frame = pl.DataFrame({"name": [*NAMES, "Zoë O'Brien-Smith", ""]})
    flags = frame.select(name_has_control(pl.col("name")))["name"].to_list()
    assert flags == [False, False, False, True, True, True, True, True, False, False]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1900-01-01", dt.date(1900, 1, 1)),
        ("01/01/1900", dt.date(1900, 1, 1)),
        ("01-01-1900", dt.date(1900, 1, 1)),
        ("1900/01/02", dt.date(1900, 1, 2)),
        ("1899-12-31", None),
        ("12/31/1899", None),
    ],
)
def test_the_earliest_accepted_birthday_is_1_january_1900(
    text: str, expected: dt.date | None
) -> None:
    parsed = pl.DataFrame({"d": [text]}).select(parse_date_of_birth(pl.col("d")))["d"].to_list()
    assert parsed == [expected]
