"""Pure, vectorised cleaning and validation of membership applications.

Every function here takes and returns Polars expressions or frames; nothing reads files, settings or
the clock. One pass builds all derived columns and the list of every rule a row fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from shopdata.members.contract import REASON_SEPARATOR, Reason

HONORIFICS: tuple[str, ...] = ("mr", "mrs", "ms", "miss", "dr")
SUFFIXES: tuple[str, ...] = ("jr", "sr", "ii", "iii", "iv", "md", "dds", "dvm", "phd")

# One regular expression per accepted format (its exact shape: digits, widths, separators), and
# the format that then reads it. The shape check comes first because a format alone is lenient
# (it takes one-digit months, say). The convention per format is unambiguous: slashes with the
# year last are month/day/year, dashes with the year last are day-month-year (the sample data has
# no counter-example).
_DATE_FORMATS: tuple[tuple[str, str], ...] = (
    (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "%Y-%m-%d"),  # YYYY-MM-DD
    (r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$", "%Y/%m/%d"),  # YYYY/MM/DD
    (r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$", "%m/%d/%Y"),  # MM/DD/YYYY
    (r"^[0-9]{2}-[0-9]{2}-[0-9]{4}$", "%d-%m-%Y"),  # DD-MM-YYYY
)
EARLIEST_DATE_OF_BIRTH = dt.date(1900, 1, 1)

_LEADING_HONORIFICS = r"(?i)^(?:(?:" + "|".join(HONORIFICS) + r")\.?(?:\s+|$))+"
_TRAILING_SUFFIXES = r"(?i)(?:(?:^|\s+)(?:" + "|".join(SUFFIXES) + r")\.?)+$"
# No whitespace and no control character (NUL, ESC, DEL, C1) anywhere: PostgreSQL cannot store
# a NUL, and an escape sequence would reach every terminal that shows the address.
_EMAIL = r"^[^@\s\x00-\x1f\x7f-\x9f]+@(?:[^@\s.\x00-\x1f\x7f-\x9f]+\.)+[^@\s.\x00-\x1f\x7f-\x9f]+$"
# C0 and C1 control characters other than tab, line feed and carriage return (which are
# whitespace in a name, collapsed to one space).
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"


def name_has_control(name: pl.Expr) -> pl.Expr:
    """True when a name holds a control character (NUL, ESC of an ANSI sequence, DEL, C1)."""
    return name.str.contains(_CONTROL)


def parse_date_of_birth(text: pl.Expr) -> pl.Expr:
    """Parse the four accepted birthday formats into a Date; null when invalid or impossible."""
    parsed = pl.coalesce(
        pl.when(text.str.contains(pattern)).then(text.str.to_date(form, strict=False, cache=False))
        for pattern, form in _DATE_FORMATS
    )
    return pl.when(parsed >= EARLIEST_DATE_OF_BIRTH).then(parsed).otherwise(None)


def normalise_mobile(text: pl.Expr) -> pl.Expr:
    """Remove all whitespace; keep the result only if it is exactly eight ASCII digits."""
    compact = text.str.replace_all(r"\s", "")
    return pl.when(compact.str.contains(r"^[0-9]{8}$")).then(compact).otherwise(None)


def strip_titles(name: pl.Expr) -> pl.Expr:
    """Drop leading honorifics and trailing suffixes, and collapse runs of whitespace."""
    # Only runs of two or more, and single tabs/newlines, need replacing: most names have neither.
    collapsed = name.str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars()
    without_honorifics = collapsed.str.replace(_LEADING_HONORIFICS, "")
    return without_honorifics.str.replace(_TRAILING_SUFFIXES, "").str.strip_chars()


def last_name(core: pl.Expr) -> pl.Expr:
    """The last word of a stripped name (words are single-space separated); null when blank."""
    return pl.when(core != "").then(core.str.split(" ").list.last()).otherwise(None)


def first_name(core: pl.Expr, last: pl.Expr | None = None) -> pl.Expr:
    """The words before the last one ('' for a one-word name); null for a blank name.

    ``last`` is ``last_name(core)`` when the caller has it already (it is not split again).
    """
    last = last_name(core) if last is None else last
    before_last = core.str.len_chars() - last.str.len_chars()
    return core.str.head(before_last).str.strip_chars_end()


def email_is_well_formed(email: pl.Expr) -> pl.Expr:
    """One '@', a non-empty local part, a dotted domain without empty labels; no space/control."""
    return email.str.contains(_EMAIL)


def email_domain_allowed(email_lowercase: pl.Expr, suffixes: Sequence[str]) -> pl.Expr:
    """True when the (already lower-cased) address ends with one of ``suffixes``.

    For a well-formed address its end is the domain's end. Callers pass the lower-cased address
    they need anyway, so that the column is lower-cased once.
    """
    allowed = pl.lit(False)
    for suffix in suffixes:
        allowed = allowed | email_lowercase.str.ends_with(suffix.lower())
    return allowed


def reason_strings(codes: Sequence[Reason]) -> pl.Series:
    """Every combination of ``codes`` as written: element ``n`` joins the codes of ``n``'s bits."""
    return pl.Series(
        [
            REASON_SEPARATOR.join(str(code) for bit, code in enumerate(codes) if n >> bit & 1)
            for n in range(1 << len(codes))
        ],
        dtype=pl.String,
    )


def age_cutoff(reference_date: dt.date, minimum_age: int) -> dt.date:
    """Latest birthday ``minimum_age`` years old on ``reference_date``, by calendar arithmetic.

    Someone born on 29 February reaches a birthday on 28 February in years without one, so the
    cut-off for a 29 February reference date in a common year is the 28th.
    """
    year = reference_date.year - minimum_age
    try:
        return reference_date.replace(year=year)
    except ValueError:  # 29 February -> a common year
        return reference_date.replace(year=year, day=28)


def apply_rules(
    frame: pl.DataFrame | pl.LazyFrame,
    *,
    reference_date: dt.date,
    minimum_age: int,
    email_suffixes: Sequence[str],
    check_name_controls: bool = True,
) -> pl.LazyFrame:
    """Add the derived columns and ``reasons`` (:class:`Reason` codes) to raw applications.

    Input: string columns ``name, email, date_of_birth, mobile_no`` already stripped of surrounding
    whitespace. Output adds ``first_name, last_name, birthday (Date), birthday_key (YYYYMMDD),
    mobile (8 digits), above_18, email_key (lower-cased email)`` and ``reasons`` (the failed
    rules' codes joined by ``;``, empty when every rule holds). Duplicates are not decided here:
    they depend on the registry (see :mod:`shopdata.members.ids`). ``check_name_controls=False``
    skips the ``name_invalid`` scan when the caller knows no field holds a control character.
    """
    cutoff = age_cutoff(reference_date, minimum_age)
    core = strip_titles(pl.col("name"))
    lazy = frame.lazy()
    # Birthdays repeat (tens of thousands of distinct values per million rows): parse each once,
    # then look each row's up (one column's lookup, not a join that gathers every column again).
    birthdays = (
        lazy.select(pl.col("date_of_birth").unique())
        .with_columns(birthday=parse_date_of_birth(pl.col("date_of_birth")))
        .with_columns(birthday_key=pl.col("birthday").dt.strftime("%Y%m%d"))
        .collect()
    )
    day = pl.col("date_of_birth").replace_strict(
        birthdays["date_of_birth"],
        pl.Series(range(birthdays.height), dtype=pl.UInt32),
        default=None,
    )
    derived = lazy.with_columns(
        _core=core,
        _day=day,
        _email_ok=email_is_well_formed(pl.col("email")),
    )
    derived = derived.with_columns(
        birthday=pl.lit(birthdays["birthday"]).gather(pl.col("_day")),
        birthday_key=pl.lit(birthdays["birthday_key"]).gather(pl.col("_day")),
        mobile=normalise_mobile(pl.col("mobile_no")),
        email_key=pl.col("email").str.to_lowercase(),
        _last=last_name(pl.col("_core")),
    )
    derived = derived.with_columns(
        first_name=first_name(pl.col("_core"), pl.col("_last")),
        last_name=pl.col("_last"),
        above_18=pl.col("birthday") <= cutoff,
        _domain_ok=pl.col("_email_ok") & email_domain_allowed(pl.col("email_key"), email_suffixes),
    )
    checks = [
        (pl.col("last_name").is_null(), Reason.NAME_BLANK),
        (
            name_has_control(pl.col("name")) if check_name_controls else pl.lit(False),
            Reason.NAME_INVALID,
        ),
        (pl.col("mobile").is_null(), Reason.MOBILE_INVALID),
        (pl.col("birthday").is_null(), Reason.DATE_OF_BIRTH_INVALID),
        (pl.col("above_18").not_(), Reason.UNDER_18),
        (pl.col("_email_ok").not_(), Reason.EMAIL_INVALID),
        (pl.col("_email_ok") & pl.col("_domain_ok").not_(), Reason.EMAIL_DOMAIN_NOT_ALLOWED),
    ]
    # A string, not a list (per-row lists cost 20x more). Each row's failed checks as the bits of
    # one small integer, which indexes the 2**7 possible strings: no string is built per row.
    failures = pl.sum_horizontal(
        failed.fill_null(False).cast(pl.UInt8) * (1 << bit)
        for bit, (failed, _) in enumerate(checks)
    ).cast(pl.UInt32)
    reasons = pl.lit(reason_strings([code for _, code in checks])).gather(failures)
    return derived.with_columns(reasons=reasons).drop(
        "_core", "_day", "_last", "_email_ok", "_domain_ok"
    )
