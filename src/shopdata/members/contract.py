"""The pipeline's contract: input columns, output columns, reason codes and the cell escaping.

Downstream engineers (and the sales database loader) rely on these names; changing one is a breaking
change of the output contract documented in ``docs/members.md``. Both directions of the formula
escaping live here too, so that the writer (:func:`shopdata.members.write.defuse_formulas`) and
every reader (``shopdata db load-members``) agree on it by construction.
"""

from __future__ import annotations

from enum import StrEnum

REQUIRED_COLUMNS: tuple[str, ...] = ("name", "email", "date_of_birth", "mobile_no")

SUCCESSFUL_COLUMNS: tuple[str, ...] = (
    "membership_id",
    "first_name",
    "last_name",
    "email",
    "mobile_no",
    "date_of_birth",
    "above_18",
)

# Lineage first, then the reasons, then the fields as received (extra columns follow them), then
# what could be derived from them.
UNSUCCESSFUL_LEADING_COLUMNS: tuple[str, ...] = ("source_file", "line_number", "reasons")
DERIVED_COLUMNS: tuple[str, ...] = (
    "derived_first_name",
    "derived_last_name",
    "derived_date_of_birth",
    "derived_mobile_no",
    "derived_above_18",
    "duplicate_of",
)

REASON_SEPARATOR = ";"

#: A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
#: The escape (OWASP's advice): one leading quote. A cell that already starts with a quote gets
#: one more, so the escape is reversible and two different values never look the same.
FORMULA_ESCAPE = "'"
#: Every first character that makes a cell escaped on output.
ESCAPED_STARTS: tuple[str, ...] = (*FORMULA_TRIGGERS, FORMULA_ESCAPE)


def escape_cell(value: str) -> str:
    """The cell as written to the CSV outputs: quoted when a spreadsheet would execute it."""
    return FORMULA_ESCAPE + value if value.startswith(ESCAPED_STARTS) else value


def unescape_cell(value: str) -> str:
    """The value a written cell stands for (inverse of :func:`escape_cell`, for every column)."""
    return value.removeprefix(FORMULA_ESCAPE)


class Reason(StrEnum):
    """Why an application is unsuccessful. A row lists every reason that applies."""

    NAME_BLANK = "name_blank"
    NAME_INVALID = "name_invalid"
    MOBILE_INVALID = "mobile_invalid"
    DATE_OF_BIRTH_INVALID = "date_of_birth_invalid"
    UNDER_18 = "under_18"
    EMAIL_INVALID = "email_invalid"
    EMAIL_DOMAIN_NOT_ALLOWED = "email_domain_not_allowed"
    DUPLICATE_APPLICATION = "duplicate_application"


REASON_DESCRIPTIONS: dict[Reason, str] = {
    Reason.NAME_BLANK: "name is blank, or only honorifics/suffixes",
    Reason.NAME_INVALID: "name contains a control character (NUL, an ANSI escape, ...)",
    Reason.MOBILE_INVALID: "mobile_no is not exactly 8 digits once whitespace is removed",
    Reason.DATE_OF_BIRTH_INVALID: "date_of_birth is not a real date in a supported format",
    Reason.UNDER_18: "applicant is younger than the minimum age on the reference date",
    Reason.EMAIL_INVALID: "email is not a well-formed address",
    Reason.EMAIL_DOMAIN_NOT_ALLOWED: "email domain does not end in an allowed suffix",
    Reason.DUPLICATE_APPLICATION: "the same email already has (or is being issued) a membership",
}
