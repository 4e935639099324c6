"""The allowed e-mail endings compare case-insensitively on both sides (docs/members.md).

``email_domain_not_allowed``: "the domain ends in `.com` or `.net`, case-insensitively". The
endings come from a setting (``SHOPDATA_MEMBERS__EMAIL_DOMAIN_SUFFIXES``), which an operator may
well write in capitals; an address must be judged the same whichever case either side is in.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from shopdata.members.rules import apply_rules

ADDRESSES = ["dee@example.org", "DEE@EXAMPLE.ORG", "dee@Example.Org", "eve@example.com"]


@pytest.mark.parametrize("suffixes", [(".org",), (".ORG",), (".Org",)])
def test_the_case_of_a_configured_ending_does_not_matter(suffixes: tuple[str, ...]) -> None:
    frame = pl.DataFrame(
        {
            "name": ["Dee Org"] * len(ADDRESSES),
            "email": ADDRESSES,
            "date_of_birth": ["1990-01-01"] * len(ADDRESSES),
            "mobile_no": ["81234567"] * len(ADDRESSES),
        }
    )
    reasons = (
        apply_rules(
            frame,
            reference_date=dt.date(2022, 1, 1),
            minimum_age=18,
            email_suffixes=suffixes,
        )
        .collect()
        .get_column("reasons")
        .to_list()
    )
    assert reasons == ["", "", "", "email_domain_not_allowed"]
