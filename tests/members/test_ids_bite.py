"""The ID stem: the last name, without the leading characters that would start a formula.

Added for mutmut survivors in members/ids.py: ``id_stem`` was read only by the pipeline tests of
``test_ids_and_columns.py`` (too slow per mutant), never by the fast ID tests.
"""

from __future__ import annotations

import polars as pl
import pytest

from shopdata.members.ids import EMPTY_STEM, id_stem


@pytest.mark.parametrize(
    ("last_name", "stem"),
    [
        ("Smith", "Smith"),
        ("O'Brien", "O'Brien"),  # a quote inside the name stays
        ("Smith-Jones", "Smith-Jones"),
        ("=Smith", "Smith"),
        ("'=Smith", "Smith"),
        ("+1", "1"),
        ("-Lee", "Lee"),
        ("@Tan", "Tan"),
        ("\tLee", "Lee"),
        ("=+-@' x", "x"),
        ("=", EMPTY_STEM),
        ("'", EMPTY_STEM),
        ("= @", EMPTY_STEM),
    ],
)
def test_the_stem_never_starts_a_formula(last_name: str, stem: str) -> None:
    frame = pl.DataFrame({"last_name": [last_name]})
    assert frame.select(id_stem(pl.col("last_name")))["last_name"].to_list() == [stem]
    assert EMPTY_STEM == "member"
