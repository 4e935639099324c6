"""The five rules and the transformations, on exact values and as properties (Hypothesis)."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shopdata.members.ids import assign_ids, empty_registry
from shopdata.members.rules import (
    HONORIFICS,
    SUFFIXES,
    age_cutoff,
    apply_rules,
    first_name,
    last_name,
    normalise_mobile,
    parse_date_of_birth,
    strip_titles,
)

REFERENCE = dt.date(2022, 1, 1)


def _one(expr: pl.Expr, values: list[str]) -> list[object]:
    return pl.DataFrame({"v": values}).select(expr.alias("out"))["out"].to_list()


def evaluate(
    *rows: tuple[str, str, str, str], suffixes: tuple[str, ...] = (".com", ".net")
) -> list[dict[str, object]]:
    frame = pl.DataFrame(rows, schema=["name", "email", "date_of_birth", "mobile_no"], orient="row")
    result = apply_rules(frame, reference_date=REFERENCE, minimum_age=18, email_suffixes=suffixes)
    rows = result.collect().to_dicts()
    for row in rows:  # the reasons column is "a;b" (empty when none): compare as lists here
        row["reasons"] = row["reasons"].split(";") if row["reasons"] else []
    return rows


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-07-15", dt.date(1990, 7, 15)),  # YYYY-MM-DD
        ("1990/07/15", dt.date(1990, 7, 15)),  # YYYY/MM/DD
        ("07/15/1990", dt.date(1990, 7, 15)),  # MM/DD/YYYY
        ("03/09/1958", dt.date(1958, 3, 9)),  # MM/DD/YYYY with day <= 12: month first
        ("15-07-1990", dt.date(1990, 7, 15)),  # DD-MM-YYYY
        ("10-03-1954", dt.date(1954, 3, 10)),  # DD-MM-YYYY with day <= 12: day first
        ("2000-02-29", dt.date(2000, 2, 29)),
        ("2001-02-29", None),  # not a leap year
        ("2001-02-30", None),
        ("1990-13-01", None),
        ("13/01/1990", None),  # month 13 in MM/DD/YYYY
        ("01-13-1990", None),  # month 13 in DD-MM-YYYY
        ("1990-7-15", None),  # not zero-padded: not one of the formats
        ("1990.07.15", None),
        ("15 July 1990", None),
        ("1899-12-31", None),  # before 1900: no living applicant
        ("", None),
        ("19900715", None),
    ],
)
def test_date_formats(text: str, expected: dt.date | None) -> None:
    assert _one(parse_date_of_birth(pl.col("v")), [text]) == [expected]


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_every_format_round_trips(day: dt.date) -> None:
    texts = [
        day.strftime("%Y-%m-%d").zfill(10),
        f"{day.year:04d}/{day.month:02d}/{day.day:02d}",
        f"{day.month:02d}/{day.day:02d}/{day.year:04d}",
        f"{day.day:02d}-{day.month:02d}-{day.year:04d}",
    ]
    assert _one(parse_date_of_birth(pl.col("v")), texts) == [day] * 4


_FORMAT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "%Y-%m-%d"),
    (r"[0-9]{4}/[0-9]{2}/[0-9]{2}", "%Y/%m/%d"),
    (r"[0-9]{2}/[0-9]{2}/[0-9]{4}", "%m/%d/%Y"),
    (r"[0-9]{2}-[0-9]{2}-[0-9]{4}", "%d-%m-%Y"),
)


def _expected_date(text: str) -> dt.date | None:
    """The promise, written independently of the parser: one of four zero-padded formats, a
    real calendar date, not before 1900-01-01; anything else is no date."""
    for pattern, fmt in _FORMAT_PATTERNS:
        if re.fullmatch(pattern, text):
            try:
                day = dt.datetime.strptime(text, fmt).date()
            except ValueError:
                return None
            return day if day >= dt.date(1900, 1, 1) else None
    return None


@st.composite
def _date_like_texts(draw: st.DrawFn) -> str:
    """Random texts, half of them one edit away from a real date in one of the formats."""
    if draw(st.booleans()):
        return draw(st.text(alphabet="0123456789-/ .", max_size=12))
    day = draw(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(9999, 12, 31)))
    fmt = draw(st.sampled_from([fmt for _, fmt in _FORMAT_PATTERNS]))
    text = (
        fmt.replace("%Y", f"{day.year:04d}")
        .replace("%m", f"{day.month:02d}")
        .replace("%d", f"{day.day:02d}")
    )
    edit = draw(st.sampled_from(["none", "replace", "delete", "insert"]))
    if edit == "none":
        return text
    at = draw(st.integers(min_value=0, max_value=len(text) - 1))
    char = draw(st.sampled_from("0123456789-/ ."))
    if edit == "replace":
        return text[:at] + char + text[at + 1 :]
    if edit == "delete":
        return text[:at] + text[at + 1 :]
    return text[:at] + char + text[at:]


@given(_date_like_texts())
def test_parser_accepts_only_the_four_formats(text: str) -> None:
    (parsed,) = _one(parse_date_of_birth(pl.col("v")), [text])
    assert parsed == _expected_date(text)


# --- mobile ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("36316303", "36316303"),
        ("3631 6303", "36316303"),
        (" 3631\t63 03 ", "36316303"),
        ("3631630", None),
        ("363163031", None),
        ("+6536316303", None),
        ("3631-6303", None),
        ("3631630a", None),
        ("\uff13\uff16\uff13\uff11\uff16\uff13\uff10\uff13", None),  # full-width digits
        ("", None),
    ],
)
def test_mobile(text: str, expected: str | None) -> None:
    assert _one(normalise_mobile(pl.col("v")), [text]) == [expected]


@given(st.text(alphabet="0123456789 \t-+a", max_size=14))
def test_mobile_valid_iff_eight_digits_after_removing_whitespace(text: str) -> None:
    compact = "".join(text.split())
    (normalised,) = _one(normalise_mobile(pl.col("v")), [text])
    if len(compact) == 8 and compact.isdigit():
        assert normalised == compact
    else:
        assert normalised is None


# --- names -------------------------------------------------------------------------------------


def split(name: str) -> tuple[object, object]:
    core = strip_titles(pl.col("v"))
    frame = pl.DataFrame({"v": [name]}).select(f=first_name(core), l=last_name(core))
    return frame["f"][0], frame["l"][0]


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Mr. Larry Grimes MD", "Larry", "Grimes"),
        ("Mary Ann Smith", "Mary Ann", "Smith"),
        ("Dr. Mary Ann Smith PhD", "Mary Ann", "Smith"),
        ("Mrs. Jane Doe Jr.", "Jane", "Doe"),
        ("Miss Kim Lee III", "Kim", "Lee"),
        ("Ms. Ana Ruiz DDS", "Ana", "Ruiz"),
        ("John Smith Sr.", "John", "Smith"),
        ("Kenneth Williamson II", "Kenneth", "Williamson"),
        ("Sam Vet DVM", "Sam", "Vet"),
        ("Henry Tudor IV", "Henry", "Tudor"),
        ("  José   Müller-Lüdenscheidt  ", "José", "Müller-Lüdenscheidt"),
        ("李 小龍", "李", "小龍"),
        ("Zoë O'Brien", "Zoë", "O'Brien"),
        ("Madonna", "", "Madonna"),  # one word: it is the last name, the first name is empty
        ("Mr. Madonna", "", "Madonna"),
        ("Dr.", None, None),  # only an honorific: blank
        ("", None, None),
        ("Mr Drew Miss", "Drew", "Miss"),  # honorifics count only at the start
    ],
)
def test_name_split(name: str, first: str | None, last: str | None) -> None:
    assert split(name) == (first, last)


_word = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=8).filter(
    lambda w: w.lower() not in HONORIFICS + SUFFIXES
)


@given(
    st.lists(_word, min_size=1, max_size=4),
    st.sampled_from(["", "Mr. ", "Dr. ", "Miss "]),
    st.sampled_from(["", " MD", " Jr.", " III"]),
)
def test_name_split_keeps_words(words: list[str], honorific: str, suffix: str) -> None:
    first, last = split(honorific + " ".join(words) + suffix)
    assert last == words[-1]
    assert first == " ".join(words[:-1])


# --- age ---------------------------------------------------------------------------------------


def test_age_cutoff_is_calendar_arithmetic() -> None:
    assert age_cutoff(dt.date(2022, 1, 1), 18) == dt.date(2004, 1, 1)
    assert age_cutoff(dt.date(2024, 2, 29), 18) == dt.date(2006, 2, 28)


def test_eighteenth_birthday_on_the_reference_date_qualifies() -> None:
    on, after = evaluate(
        ("Ann Lee", "a@x.com", "2004-01-01", "12345678"),
        ("Bob Lee", "b@x.com", "2004-01-02", "12345678"),
    )
    assert (on["above_18"], on["reasons"]) == (True, [])
    assert (after["above_18"], after["reasons"]) == (False, ["under_18"])


# --- email -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "reasons"),
    [
        ("a@b.com", []),
        ("A.B@Mail.Example.NET", []),
        ("a@b.org", ["email_domain_not_allowed"]),
        ("a@b.community", ["email_domain_not_allowed"]),
        ("a@bcom", ["email_invalid"]),
        ("a@@b.com", ["email_invalid"]),
        ("a@b@c.com", ["email_invalid"]),
        ("@b.com", ["email_invalid"]),
        ("a b@c.com", ["email_invalid"]),
        ("a@.com", ["email_invalid"]),
        ("a@b..com", ["email_invalid"]),
        ("", ["email_invalid"]),
    ],
)
def test_email(email: str, reasons: list[str]) -> None:
    (row,) = evaluate(("Ann Lee", email, "1990-01-01", "12345678"))
    assert row["reasons"] == reasons


def test_allowed_endings_are_a_setting() -> None:
    (row,) = evaluate(("Ann Lee", "a@b.org", "1990-01-01", "12345678"), suffixes=(".org",))
    assert row["reasons"] == []


def test_every_failed_rule_is_listed() -> None:
    (row,) = evaluate(("", "nope", "2001-02-30", "123"))
    assert row["reasons"] == [
        "name_blank",
        "mobile_invalid",
        "date_of_birth_invalid",
        "email_invalid",
    ]


def test_membership_id_is_last_name_and_birthday_hash() -> None:
    """The formula on a worked example: sha256("19540310") starts with 2b72a."""
    candidates = pl.DataFrame(
        {"last_name": ["Lee"], "birthday_key": ["19540310"], "email_key": ["ann@lee.com"]}
    )
    issued = assign_ids(candidates, empty_registry())
    assert issued["membership_id"].to_list() == ["Lee_2b72a"]
    assert issued["base_id"].to_list() == ["Lee_2b72a"]
