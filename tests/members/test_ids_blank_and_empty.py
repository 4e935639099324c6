"""Membership IDs at the edges the formula names: nothing left of the last name, no birthdays.

From the docstring of ``shopdata.members.ids``: the stem is the last name without its leading
formula characters and whitespace, "or ``member`` if nothing is left"; ``birthday_hash5`` maps
each distinct ``YYYYMMDD`` birthday to its 5-hex-character hash (a text column).

Written for mutmut survivors recorded as equivalent: ``id_stem`` 9 (the anchored pre-test made
``null``) turned an empty last name into ``member``, as documented, where the code kept it empty
(an ID ``_1a2b3`` that starts with the separator, which the database refuses); ``birthday_hash5``
14 and 16 (no ``dtype=pl.String``) give a ``Null`` column for a run without birthdays, since
Polars infers ``Null``, not ``String``, from an empty list.
"""

from __future__ import annotations

import hashlib

import polars as pl
import pytest

from shopdata.members.ids import EMPTY_STEM, assign_ids, birthday_hash5, empty_registry, id_stem


def _stem(last_name: str) -> str:
    return str(pl.select(id_stem(pl.lit(last_name, dtype=pl.String))).item())


@pytest.mark.parametrize("last_name", ["", " ", "\t", "=", "'='"])
def test_a_last_name_with_nothing_left_has_the_stem_member(last_name: str) -> None:
    assert _stem(last_name) == EMPTY_STEM == "member"


def test_an_empty_last_name_gets_a_member_id_never_one_starting_with_the_separator() -> None:
    candidates = pl.DataFrame(
        {"last_name": ["", "Lee"], "birthday_key": ["19900715", "19900715"]},
    ).with_columns(email_key=pl.Series(["a@x.com", "b@x.com"]))
    issued = assign_ids(candidates, empty_registry())
    hash5 = hashlib.sha256(b"19900715").hexdigest()[:5]
    assert issued["membership_id"].to_list() == [f"member_{hash5}", f"Lee_{hash5}"]
    assert issued["base_id"].to_list() == [f"member_{hash5}", f"Lee_{hash5}"]


@pytest.mark.parametrize(
    "birthdays",
    [
        pl.Series("birthday_key", [], dtype=pl.String),
        pl.Series("birthday_key", [None, None], dtype=pl.String),
    ],
    ids=["no rows", "only nulls"],
)
def test_no_birthdays_give_an_empty_text_mapping(birthdays: pl.Series) -> None:
    mapping = birthday_hash5(birthdays)
    assert mapping.height == 0
    assert mapping.schema == pl.Schema({"birthday_key": pl.String, "hash5": pl.String})


def test_birthdays_map_to_their_five_hex_characters_as_text() -> None:
    mapping = birthday_hash5(pl.Series("birthday_key", ["19540310", None, "19540310", "20000229"]))
    assert mapping.schema == pl.Schema({"birthday_key": pl.String, "hash5": pl.String})
    assert dict(mapping.sort("birthday_key").rows()) == {
        "19540310": hashlib.sha256(b"19540310").hexdigest()[:5],
        "20000229": hashlib.sha256(b"20000229").hexdigest()[:5],
    }
